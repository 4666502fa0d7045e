"""RBAC: every admin route is denied by default: 401 without a token, 403 without the permission."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from api_support import grant, register, user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing import security

BODIES = {"credit": {"amount": 1}, "debit": {"amount": 1}, "roles": {"role": "member"}}


def admin_requests(app: FastAPI, target: int) -> list[tuple[str, str, dict[str, object] | None]]:
    """(method, path, body) for every admin route of the app, aimed at user ``target``."""
    requests = []
    for template, operations in app.openapi()["paths"].items():
        if template.startswith("/admin"):
            path = template.replace("{user_id}", str(target)).replace("{role}", "member")
            for method in sorted(operations):
                body = BODIES.get(path.rsplit("/", 1)[-1]) if method == "post" else None
                requests.append((method.upper(), path, body))
    return requests


def test_every_admin_route_refuses_anonymous_and_members(app: FastAPI, client: TestClient) -> None:
    member_id, member = user(client, "member")
    grant(app, member_id, "member")
    target, _ = register(client, "target")
    requests = admin_requests(app, target)
    assert len(requests) >= 6

    anonymous = {(m, p): client.request(m, p, json=b).status_code for m, p, b in requests}
    as_member = {(m, p): client.request(m, p, json=b, headers=member).status_code for m, p, b in requests}

    assert set(anonymous.values()) == {401}, anonymous
    assert set(as_member.values()) == {403}, as_member


def test_a_user_without_roles_is_denied_and_an_admin_allowed(app: FastAPI, client: TestClient) -> None:
    _, nobody = user(client, "no-roles")
    admin_id, admin = user(client, "admin")
    grant(app, admin_id, "admin")
    target, _ = register(client, "target")
    url = f"/admin/users/{target}/tokens"

    assert client.get(url, headers=nobody).status_code == 403
    assert client.get(url, headers=admin).status_code == 200
    assert client.post(f"{url}/credit", json={"amount": 5}, headers=admin).status_code == 201


def test_permissions_come_from_roles_and_revoking_takes_them_away(app: FastAPI, client: TestClient) -> None:
    admin_id, admin = user(client, "admin")
    grant(app, admin_id, "admin")
    staff_id, staff = user(client, "staff")
    url = f"/admin/users/{staff_id}/tokens/credit"

    assert client.post(url, json={"amount": 1}, headers=staff).status_code == 403
    granted = client.post(f"/admin/users/{staff_id}/roles", json={"role": "billing_manager"}, headers=admin)
    assert granted.status_code == 201
    assert granted.json()["roles"] == ["billing_manager", "member"]  # every account starts as a member
    assert "tokens:write" in granted.json()["permissions"]
    assert "roles:write" not in granted.json()["permissions"]
    assert client.post(url, json={"amount": 1}, headers=staff).status_code == 201
    # billing_manager may not hand out roles.
    assert client.post(f"/admin/users/{staff_id}/roles", json={"role": "admin"}, headers=staff).status_code == 403
    revoked = client.delete(f"/admin/users/{staff_id}/roles/billing_manager", headers=admin)
    assert revoked.json()["roles"] == ["member"]
    assert client.post(url, json={"amount": 1}, headers=staff).status_code == 403
    assert client.post(f"/admin/users/{staff_id}/roles", json={"role": "nope"}, headers=admin).status_code == 404


def test_forged_and_expired_tokens_are_401(app: FastAPI, client: TestClient) -> None:
    admin_id, _ = user(client, "admin")
    grant(app, admin_id, "admin")
    url = f"/admin/users/{admin_id}/tokens"
    past = datetime.now(timezone.utc) - timedelta(hours=2)
    expired = security.create_access_token(admin_id, app.state.jwt_secret, 60, now=past)
    forged = security.create_access_token(admin_id, "not-the-app-secret-but-long-enough-for-hs256!", 60)

    for token in (expired, forged, "garbage"):
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
