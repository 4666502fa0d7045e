"""End-to-end smoke of the eleven billing features over HTTP, against a reset and seeded database.

Each feature is checked on its own (own users, unique emails), so one failure, such as a missing
table, is reported on its line and the other checks still run. Nothing is cleaned up: the smoke
runs against a throwaway database and only adds rows it owns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from billing.api.app import create_app
from billing.security import STRONG_HASHER, TEST_HASHER, new_secret
from billing.services import rbac
from billing.services.mail import InMemoryMailer
from billing.services.throttle import ThrottlePolicy

if TYPE_CHECKING:
    from httpx2 import Response  # what Starlette's TestClient returns (httpx on Python 3.10)

FEATURES = (
    "user authentication",
    "password reset",
    "subscriptions",
    "add-on subscriptions",
    "invoices",
    "payment methods",
    "tariff plans",
    "token bundles",
    "token balance operations",
    "feature usage rate limiting",
    "RBAC",
)

PASSWORD = "smoke-Password-1"


class SmokeFailure(AssertionError):
    """A check saw something other than what it expected."""


def describe(exc: BaseException) -> str:
    """One line saying what went wrong: the database's own message for a DB error."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    elif isinstance(exc, AssertionError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def expect(response: Response, status: int) -> Any:
    """The response's JSON body if the status is as expected, else SmokeFailure naming the request."""
    if response.status_code != status:
        request = response.request
        raise SmokeFailure(
            f"{request.method} {request.url.path} -> {response.status_code} (wanted {status}): {response.text[:200]}"
        )
    return response.json() if response.content else None


def check(condition: bool, message: str) -> None:
    """SmokeFailure(message) unless the condition holds."""
    if not condition:
        raise SmokeFailure(message)


class Smoke:
    """One smoke run: an app, a client and a run id for unique emails."""

    def __init__(self, client: TestClient, sessions: sessionmaker[Session], mailer: InMemoryMailer) -> None:
        self.client = client
        self.sessions = sessions
        self.mailer = mailer
        self.run = uuid.uuid4().hex[:10]

    def email(self, label: str) -> str:
        """A unique email for this run."""
        return f"smoke-{label}-{self.run}@example.com"

    def register(self, label: str) -> tuple[int, str]:
        """Register a user; return (id, email)."""
        email = self.email(label)
        expect(self.client.post("/auth/register", json={"email": email, "password": PASSWORD}), 202)
        me = expect(self.client.get("/auth/me", headers=self.login(email)), 200)
        return int(me["id"]), email

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Log in; return the Authorization header."""
        body = expect(self.client.post("/auth/login", json={"email": email, "password": password}), 200)
        return {"Authorization": f"Bearer {body['access_token']}"}

    def user(self, label: str) -> tuple[int, dict[str, str]]:
        """Register and log in a user; return (id, headers)."""
        user_id, email = self.register(label)
        return user_id, self.login(email)

    def grant(self, user_id: int, role: str) -> None:
        """Grant a role directly through the service layer (the smoke does not know the admin password)."""
        with self.sessions() as session:
            rbac.grant_role(session, user_id, role)
            session.commit()

    # -- the eleven checks; each returns its one-line detail or raises ---------------------------

    def user_authentication(self) -> str:
        """Register, log in, reach /auth/me; a repeated sign-up changes nothing; bad password or token refused."""
        user_id, email = self.register("auth")
        fresh = expect(
            self.client.post("/auth/register", json={"email": self.email("fresh"), "password": PASSWORD}), 202
        )
        again = self.client.post("/auth/register", json={"email": email.upper(), "password": "smoke-Other-Pw-9"})
        check(expect(again, 202) == fresh, "sign-up answers a taken email differently from a new one")
        expect(self.client.post("/auth/login", json={"email": email, "password": "smoke-Other-Pw-9"}), 401)
        expect(self.client.post("/auth/login", json={"email": email, "password": "wrong-password"}), 401)
        headers = self.login(email.upper())
        me = expect(self.client.get("/auth/me", headers=headers), 200)
        check(me["id"] == user_id and me["email"] == email, f"/auth/me returned {me}")
        expect(self.client.get("/auth/me"), 401)
        expect(self.client.get("/auth/me", headers={"Authorization": "Bearer not-a-jwt"}), 401)
        return "register 202 (same for a taken email), bad password 401, login + /auth/me 200, no/bad token 401"

    def password_reset(self) -> str:
        """Forgot-password mails a token; it resets the password once; unknown emails get the same reply."""
        _, email = self.register("reset")
        known = self.client.post("/auth/forgot-password", json={"email": email})
        unknown = self.client.post("/auth/forgot-password", json={"email": self.email("nobody")})
        expect(known, 202)
        expect(unknown, 202)
        check(known.json() == unknown.json(), "forgot-password answers differ for known and unknown emails")
        try:
            message = self.mailer.wait_for(email, "Reset your password")
        except TimeoutError as exc:
            raise SmokeFailure(f"no reset token was mailed: {exc}") from None
        check(message.token is not None, "the reset mail has no token")
        assert message.token is not None
        check(message.token not in known.text, "the reset token leaked into the HTTP response")
        check(self.mailer.last_to(self.email("nobody")) is None, "a token was mailed to an unknown email")
        new_password = "smoke-New-Password-2"
        reset = {"email": email, "token": message.token, "new_password": new_password}
        expect(self.client.post("/auth/reset-password", json=reset), 200)
        self.login(email, new_password)
        expect(self.client.post("/auth/login", json={"email": email, "password": PASSWORD}), 401)
        expect(self.client.post("/auth/reset-password", json={**reset, "new_password": "smoke-Third-Pw-3"}), 400)
        return "token mailed (not in response), same 202 for unknown email, reset + login ok, reuse 400"

    def tariff_plans(self) -> str:
        """The seeded plans are listed with their features and limits."""
        plans = expect(self.client.get("/plans"), 200)
        codes = [plan["code"] for plan in plans]
        check({"free", "pro", "business"} <= set(codes), f"plans listed: {codes}")
        pro = expect(self.client.get("/plans/pro"), 200)
        limits = {f["code"]: f["limit"] for f in pro["features"]}
        check(bool(limits), "the pro plan has no features")
        expect(self.client.get(f"/plans/no-such-plan-{self.run}"), 404)
        return f"{len(plans)} plans ({', '.join(codes)}); pro: {len(limits)} features, price {pro['price']}"

    def subscriptions(self) -> str:
        """Subscribe to a plan, a second live subscription is refused, cancel at period end."""
        _, headers = self.user("sub")
        body = expect(self.client.post("/subscriptions", json={"plan_code": "pro"}, headers=headers), 201)
        sub = body["subscription"]
        check(sub["plan_code"] == "pro" and sub["status"] in ("trialing", "active"), f"subscription {sub}")
        expect(self.client.post("/subscriptions", json={"plan_code": "business"}, headers=headers), 409)
        canceled = expect(self.client.post(f"/subscriptions/{sub['id']}/cancel", headers=headers), 200)
        check(canceled["cancel_at_period_end"] and canceled["canceled_at"], f"after cancel: {canceled}")
        _, stranger = self.user("sub-other")
        expect(self.client.post(f"/subscriptions/{sub['id']}/cancel", headers=stranger), 404)
        return f"pro subscription {sub['status']}, second one 409, cancel at period end ok, others' 404"

    def addon_subscriptions(self) -> str:
        """Checkout with add-ons creates subscription_addons rows and invoice lines for them."""
        _, headers = self.user("addons")
        order = {"plan_code": "pro", "addon_codes": ["extra_seats", "extra_seats", "extra_projects"]}
        body = expect(self.client.post("/subscriptions", json=order, headers=headers), 201)
        addons = {a["code"]: a["quantity"] for a in body["subscription"]["addons"]}
        check(addons == {"extra_seats": 2, "extra_projects": 1}, f"add-ons at checkout: {addons}")
        current = expect(self.client.get("/subscriptions/current", headers=headers), 200)
        stored = {a["code"]: a["quantity"] for a in current["addons"]}
        check(stored == addons, f"add-ons stored: {stored}")
        lines = body["invoice"]["lines"]
        check(len(lines) == 3, f"{len(lines)} invoice lines, wanted plan + 2 add-ons")
        bad = {"plan_code": "pro", "addon_codes": [f"no-such-addon-{self.run}"]}
        _, other = self.user("addons-bad")
        expect(self.client.post("/subscriptions", json=bad, headers=other), 404)
        return f"checkout with {addons}, {len(lines)} invoice lines, total {body['invoice']['total']}, unknown 404"

    def invoices(self) -> str:
        """The checkout invoice is listed; its total is the sum of its lines; the period is not invoiced twice."""
        _, headers = self.user("invoice")
        body = expect(self.client.post("/subscriptions", json={"plan_code": "business"}, headers=headers), 201)
        listed = expect(self.client.get("/invoices", headers=headers), 200)
        check(len(listed) == 1, f"{len(listed)} invoices listed, wanted 1")
        invoice = listed[0]
        total = sum((Decimal(line["amount"]) for line in invoice["lines"]), Decimal(0))
        check(Decimal(invoice["total"]) == total == Decimal(invoice["subtotal"]), f"total vs lines: {invoice}")
        check(total > 0 and invoice["currency"] == "USD", f"total {total} {invoice['currency']}")
        sub_id = body["subscription"]["id"]
        expect(self.client.post(f"/subscriptions/{sub_id}/invoice", headers=headers), 409)
        _, stranger = self.user("invoice-other")
        expect(self.client.get(f"/invoices/{invoice['id']}", headers=stranger), 404)
        return f"{invoice['number']}: {len(invoice['lines'])} line(s), total {invoice['total']} {invoice['currency']}"

    def payment_methods(self) -> str:
        """Tokenised methods (details from the provider); one default; card numbers, unknown providers refused."""
        _, headers = self.user("pm")
        card = {"provider": "stripe", "token": "pm_card_visa"}
        first = expect(self.client.post("/payment-methods", json=card, headers=headers), 201)
        check(first["is_default"], "the first method is not the default")
        check((first["brand"], first["last4"]) == ("visa", "4242"), f"details not from the provider: {first}")
        paypal = {"provider": "paypal", "token": "pm_paypal", "make_default": True}
        expect(self.client.post("/payment-methods", json=paypal, headers=headers), 201)
        methods = expect(self.client.get("/payment-methods", headers=headers), 200)
        defaults = [m["provider"] for m in methods if m["is_default"]]
        check(len(methods) == 2 and defaults == ["paypal"], f"methods {methods}")
        expect(self.client.post("/payment-methods", json={**card, "provider": "bitcoin"}, headers=headers), 422)
        pan = {"provider": "stripe", "token": "4242 4242 4242 4242"}
        expect(self.client.post("/payment-methods", json=pan, headers=headers), 422)
        return "stripe + paypal stored by token, one default (paypal), card number and unknown provider 422"

    def token_bundles(self) -> str:
        """Bundles are listed; tokens only for a paid purchase (none without a card or with a declined one)."""
        bundles = expect(self.client.get("/token-bundles"), 200)
        check(len(bundles) > 0, "no token bundles on sale")
        bundle = bundles[0]
        _, headers = self.user("bundle")
        buy = f"/token-bundles/{bundle['code']}/purchase"
        expect(self.client.post(buy, headers=headers), 402)
        declined = {"provider": "stripe", "provider_method_id": "pm_card_chargeDeclined"}
        expect(self.client.post("/payment-methods", json=declined, headers=headers), 201)
        expect(self.client.post(buy, headers=headers), 402)
        check(expect(self.client.get("/tokens", headers=headers), 200)["balance"] == 0, "tokens without payment")
        card = {"provider": "stripe", "provider_method_id": "pm_card_visa", "make_default": True}
        expect(self.client.post("/payment-methods", json=card, headers=headers), 201)
        bought = expect(self.client.post(buy, headers=headers), 201)
        check(bought["tokens"] == bundle["tokens"] == bought["balance"], f"purchase {bought}")
        mine = expect(self.client.get("/tokens", headers=headers), 200)
        check(mine["balance"] == bundle["tokens"], f"balance after purchase {mine['balance']}")
        expect(self.client.post(f"/token-bundles/no-such-{self.run}/purchase", headers=headers), 404)
        return f"{len(bundles)} bundles; no card or declined 402; bought {bundle['code']} for {bought['amount']}"

    def token_balance_operations(self) -> str:
        """Admin credit and debit over the ledger; an overdraft is 409; the ledger sums to the balance."""
        manager_id, manager = self.user("tokens-manager")
        self.grant(manager_id, "billing_manager")
        target, _ = self.register("tokens-target")
        base = f"/admin/users/{target}/tokens"
        expect(self.client.post(f"{base}/credit", json={"amount": 10}, headers=manager), 201)
        expect(self.client.post(f"{base}/debit", json={"amount": 3}, headers=manager), 201)
        expect(self.client.post(f"{base}/debit", json={"amount": 8}, headers=manager), 409)
        state = expect(self.client.get(base, headers=manager), 200)
        ledger = sum(t["amount"] for t in state["transactions"])
        check(state["balance"] == 7 == ledger, f"balance {state['balance']}, ledger sum {ledger}")
        return f"credit 10, debit 3, overdraft 8 refused (409); balance {state['balance']} = ledger sum"

    def feature_usage_rate_limiting(self) -> str:
        """Uses are counted against the plan's limit; the one over it gets 429."""
        _, headers = self.user("usage")
        first = expect(self.client.post("/features/projects/use", headers=headers), 200)
        limit = first["limit"]
        check(isinstance(limit, int) and 0 < limit <= 20, f"free plan projects limit {limit}")
        for _ in range(limit - 1):
            expect(self.client.post("/features/projects/use", headers=headers), 200)
        refused = self.client.post("/features/projects/use", headers=headers)
        expect(refused, 429)
        check("retry-after" in refused.headers, "429 without Retry-After")
        usage = expect(self.client.get("/features/projects/usage", headers=headers), 200)
        check(usage["used"] == limit, f"used {usage['used']} of {limit}")
        return f"free plan projects: {limit} admitted, next one 429 (Retry-After {refused.headers['retry-after']}s)"

    def rbac(self) -> str:
        """Admin routes: anonymous 401, member 403, admin 200; a granted role takes effect."""
        member_id, member = self.user("member")
        self.grant(member_id, "member")
        admin_id, admin = self.user("admin")
        self.grant(admin_id, "admin")
        path = f"/admin/users/{member_id}/tokens"
        expect(self.client.get(path), 401)
        expect(self.client.get(path, headers=member), 403)
        expect(self.client.post(f"{path}/credit", json={"amount": 1}, headers=member), 403)
        expect(self.client.get(path, headers=admin), 200)
        granted = self.client.post(f"/admin/users/{member_id}/roles", json={"role": "billing_manager"}, headers=admin)
        roles = expect(granted, 201)["roles"]
        check(roles == ["billing_manager", "member"], f"roles after grant: {roles}")
        expect(self.client.post(f"{path}/credit", json={"amount": 1}, headers=member), 201)
        return "anonymous 401, member 403, admin 200; granting billing_manager lets the member credit"


def smoke(url: str, password_hasher: PasswordHasher = TEST_HASHER) -> list[tuple[str, bool, str]]:
    """Run the eleven feature checks against ``url``; one (feature, ok, detail) per feature."""
    mailer = InMemoryMailer()
    # Every check runs from one client address: the throttle limits are scaled for that many sign-ups.
    # On a throwaway database (full-check's) its accounts are throwaway too: argon2 at its cheapest,
    # a sign-up then costs 0.2 ms instead of 50. ``main`` keeps the served default.
    app = create_app(
        url,
        mailer=mailer,
        pool_size=5,
        throttle=ThrottlePolicy().scaled(100),
        secret=new_secret(),
        password_hasher=password_hasher,
    )
    with TestClient(app, raise_server_exceptions=True) as client:
        run = Smoke(client, app.state.sessionmaker, mailer)
        checks: dict[str, Callable[[], str]] = {
            "user authentication": run.user_authentication,
            "password reset": run.password_reset,
            "subscriptions": run.subscriptions,
            "add-on subscriptions": run.addon_subscriptions,
            "invoices": run.invoices,
            "payment methods": run.payment_methods,
            "tariff plans": run.tariff_plans,
            "token bundles": run.token_bundles,
            "token balance operations": run.token_balance_operations,
            "feature usage rate limiting": run.feature_usage_rate_limiting,
            "RBAC": run.rbac,
        }
        results: list[tuple[str, bool, str]] = []
        for name in FEATURES:
            try:
                results.append((name, True, checks[name]()))
            except Exception as exc:  # noqa: BLE001 - every failure becomes one line; the other checks still run
                results.append((name, False, describe(exc)))
        return results


def main() -> int:
    """Run the smoke against DATABASE_URL and print one line per feature; exit 1 if any failed."""
    from billing.settings import load_settings

    url = load_settings().database_url
    if not url:
        print("set DATABASE_URL")
        return 2
    results = smoke(url, STRONG_HASHER)
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
