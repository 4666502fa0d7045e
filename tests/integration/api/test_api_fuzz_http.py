"""Property: whatever strings, numbers and JSON reach whichever route, a real uvicorn never answers 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from api_support import grant, http_user, uvicorn_server
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.api.app import ROUTERS
from billing.models import User

# Each test starts a real uvicorn process: left out of full-check's fast subset, run by `invoke test --all`.
pytestmark = pytest.mark.slow

ROUTES = [
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods)
]
FIELDS = [
    "email", "password", "full_name", "token", "new_password", "plan_code", "addon_codes", "issue_invoice",
    "at_period_end", "provider", "provider_method_id", "brand", "last4", "exp_month", "exp_year", "make_default",
    "payment_method_id", "amount", "kind", "description", "idempotency_key", "role",
]  # fmt: skip

# Text with the characters that broke the API before: NUL, lone surrogates, very long and non-ASCII strings.
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800x", "free", "pro", "member", "stripe", "grant", "x" * 5000]),
    st.emails(),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=12
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    json_values,
    st.binary(max_size=200),
)
path_parts = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    # Percent-encoded as a client would; the samples below are already encoded (a NUL, invalid UTF-8).
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).map(lambda t: quote(t, safe="")),
    st.sampled_from(["free", "member", "1", "%00", "%ED%A0%80", "9223372036854775808"]),
)


@pytest.fixture()
def target(seeded_url: str, tmp_path: Path, app: FastAPI) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A uvicorn over the seeded database and the credentials to try: none, garbage, a member, an admin."""
    env = {"BILLING_JWT_SECRET": "fuzz-secret-long-enough-for-hs256-signing!", "BILLING_THROTTLE_FACTOR": "1000"}
    with uvicorn_server(seeded_url, tmp_path, env) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            _, member = http_user(client, "fuzz-member")
            admin_email, admin = http_user(client, "fuzz-admin")
        with app.state.sessionmaker() as session:
            admin_id = session.scalars(sa.select(User.id).where(User.email == admin_email)).one()
        grant(app, admin_id, "admin")
        yield base, {"none": {}, "garbage": {"Authorization": "Bearer \x7f.x.y"}, "member": member, "admin": admin}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    parts=st.lists(path_parts, min_size=2, max_size=2),
    body=bodies,
    who=st.sampled_from(["none", "garbage", "member", "admin"]),
    # What HTTP lets a header carry: visible ASCII, spaces and the latin-1 range.
    idempotency_key=st.none() | st.text(st.characters(max_codepoint=255, blacklist_categories=("Cc",)), max_size=300),
)
def test_no_route_answers_5xx_to_generated_input(
    target: tuple[str, dict[str, dict[str, str]]],
    route: tuple[str, str],
    parts: list[str],
    body: Any,
    who: str,
    idempotency_key: str | None,
) -> None:
    base, credentials = target
    method, template = route
    first, second = parts
    path = template.format(code=first, role=first, user_id=first, subscription_id=second, invoice_id=second)
    headers: dict[str, str | bytes] = {**credentials[who], "content-type": "application/json"}
    if idempotency_key is not None and idempotency_key.strip():
        headers["Idempotency-Key"] = idempotency_key.strip().encode("latin-1")  # any byte HTTP allows
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with httpx.Client(base_url=base, timeout=60) as client:
        response = client.request(method, path, content=content, headers=headers)
    assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
    if response.headers.get("content-type", "").startswith("application/json"):
        response.json()  # every reply is valid JSON, even about input it could not store
