"""Domain errors raised by the services; the HTTP layer maps each kind to a status code."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(ServiceError):
    """The request makes no sense for the data it names (400)."""


class Unprocessable(ServiceError):
    """The request is well formed but cannot be accepted as it is (422)."""

    status_code = 422


class AuthenticationFailed(ServiceError):
    """Unknown user, wrong password, or a missing or invalid credential (401)."""

    status_code = 401


class PaymentRequired(ServiceError):
    """No payment method to charge, or the provider declined or wants authentication (402)."""

    status_code = 402


class PermissionDenied(ServiceError):
    """The user is known but may not do this (403)."""

    status_code = 403


class NotFound(ServiceError):
    """The named thing does not exist, or is not the caller's (404)."""

    status_code = 404


class Conflict(ServiceError):
    """The request clashes with the current state (409)."""

    status_code = 409


class InsufficientBalance(Conflict):
    """A debit larger than the user's token balance (409)."""


class RetryLater(ServiceError):
    """Base of the 429 errors: they say when to come back (Retry-After)."""

    status_code = 429

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class UsageLimitExceeded(RetryLater):
    """The user used up a feature's limit for the current period (429)."""


class TooManyAttempts(RetryLater):
    """Too many attempts at a sensitive action by one account or one client address (429)."""
