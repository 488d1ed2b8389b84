"""Errors the sandbox answers with, in Stripe's JSON shape and with Stripe's HTTP status."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """One Stripe error response. `saved` says whether idempotency keeps it for replay:
    Stripe saves the result once an endpoint started executing, not a validation failure."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        saved: bool = False,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.saved = saved
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None,
            saved: bool = False) -> ApiError:
    return ApiError(400, message, param=param, code=code, saved=saved)


def missing(kind: str, ident: str, param: str = "id") -> ApiError:
    return ApiError(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def unexpected_state(message: str, **extra: Any) -> ApiError:
    return ApiError(400, message, code="payment_intent_unexpected_state", saved=True, **extra)
