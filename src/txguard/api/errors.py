"""Every failure leaves the API in one shape: ``{"error": {"code", "message", "fields"}}``.

A client writes one error handler, and a validation error names the field it is about.
Errors txguard raises on purpose map to 4xx here; a backend that cannot be reached is a 503
(the caller may retry); anything else is a bug, logged with its traceback and answered
with a 500 that leaks nothing.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pybreaker
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from txguard.api.responses import JsonResponse
from txguard.api.schemas import ErrorBody
from txguard.domain.errors import ConflictError, InputError, NotFoundError, TxguardError
from txguard.scoring.batcher import QueueFull
from txguard.security.errors import AuthenticationError
from txguard.store.exceptions import StorageError

logger = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class ApiError(Exception):
    """An answer other than success, raised from a route."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        fields: Sequence[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = list(fields)
        self.headers = dict(headers or {})
        self.code = code


def error_body(
    status: int, message: str, fields: Sequence[tuple[str, str]] = (), code: str | None = None
) -> dict[str, Any]:
    """The error document for ``status``; ``code`` when a route names the failure itself."""
    return {
        "error": {
            "code": code or _CODES.get(status, "error" if status < 500 else "internal_error"),
            "message": message,
            "fields": [{"field": f, "message": m} for f, m in fields],
        }
    }


def error_response(
    status: int, message: str, fields: Sequence[tuple[str, str]] = (), code: str | None = None
) -> JsonResponse:
    """An error answer in the one shape."""
    return JsonResponse(error_body(status, message, fields, code), status_code=status)


def field_path(location: Sequence[str | int]) -> str:
    """``("body", "transactions", 3, "amount")`` as ``transactions[3].amount``."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def validation_fields(errors: Sequence[Any]) -> list[tuple[str, str]]:
    """Pydantic's errors as (field, message) pairs, the field in dotted form."""
    return [_field_error(e) for e in errors]


def _field_error(error: Any) -> tuple[str, str]:
    if error.get("type") == "json_invalid":  # its location is a character offset, not a field
        return "body", f"not valid JSON: {error.get('ctx', {}).get('error', 'decode error')}"
    return field_path(error.get("loc", ())), str(error.get("msg", "invalid"))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the one error shape."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(TxguardError, _txguard)
    app.add_exception_handler(QueueFull, _unavailable)
    app.add_exception_handler(DBAPIError, _unavailable)
    app.add_exception_handler(pybreaker.CircuitBreakerError, _unavailable)
    app.add_exception_handler(Exception, _bug)
    _document_one_shape(app)


async def _validation(_: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 -- registered for this type
    fields = validation_fields(exc.errors())
    first_field, first_message = fields[0] if fields else ("body", "invalid request")
    return error_response(422, f"{first_field}: {first_message}", fields)


async def _http(request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's answer to a body it cannot decode (not UTF-8, nested too deep): malformed
        # like broken JSON, so the same 422 naming the body
        return error_response(422, "body: not readable as JSON", [("body", "not readable as JSON")])
    response = error_response(exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405 and (methods := allowed_methods(request)) is not None:
        response.headers["Allow"] = ", ".join(methods)
    return response


def allowed_methods(request: Request) -> list[str] | None:
    """The methods the OpenAPI document lists for the request's path (None: not documented).

    Starlette names only the methods of the first route on the path (``GET`` for
    ``/rules``, which also takes ``POST``). As in OpenAPI, a concrete path wins over a
    template: ``/anomalies/count`` is not ``/anomalies/{transaction_id}``.
    """
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    segments = request.scope["path"].split("/")
    matching = [path for path in paths if _matches(path.split("/"), segments)]
    if not matching:
        return None
    path = min(matching, key=lambda template: template.count("{"))
    return sorted(method.upper() for method in paths[path] if method.upper() in _METHODS)


def _matches(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        part == segment or (part.startswith("{") and part.endswith("}") and segment != "")
        for part, segment in zip(template, segments, strict=True)
    )


async def _api(_: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, ApiError)  # noqa: S101
    response = error_response(exc.status, exc.message, exc.fields, exc.code)
    response.headers.update(exc.headers)
    return response


async def _txguard(_: Request, exc: Exception) -> JsonResponse:
    status = status_of(exc)
    field = getattr(exc, "field", None)
    fields = [(field, str(exc))] if isinstance(field, str) else []
    if status >= 500:
        logger.warning("backend unavailable: %s", exc)
    return error_response(status, str(exc), fields)


def status_of(exc: Exception) -> int:
    """The HTTP status of an error txguard raised on purpose."""
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, StorageError):
        return 503
    return 400


async def _unavailable(_: Request, exc: Exception) -> JsonResponse:
    logger.warning("backend unavailable: %s", exc)
    return error_response(503, "a backend of txguard is unavailable; retry shortly")


async def _bug(_: Request, exc: Exception) -> JsonResponse:
    logger.error("unhandled error", exc_info=exc)
    return error_response(500, "internal error; it has been logged")


_EXAMPLES = {
    401: ("unauthorized", "credentials required: an X-API-Key header or a Bearer token", []),
    403: ("forbidden", "role ANALYST may not do this; allowed: ADMIN", []),
    429: ("too_many_requests", "rate limit of 1000 requests a minute reached; retry in 12 s", []),
    404: ("not_found", "transaction 'tx-9' does not exist", []),
    409: ("conflict", "cannot move a case from NEW to RESOLVED; allowed next: UNDER_REVIEW", []),
    413: ("payload_too_large", "a batch holds at most 1000 transactions; this one has 1500", []),
    422: (
        "validation_error",
        "amount: Input should be greater than or equal to 0",
        [{"field": "amount", "message": "Input should be greater than or equal to 0"}],
    ),
    503: ("unavailable", "a backend of txguard is unavailable; retry shortly", []),
}


def _example(status: int) -> dict[str, Any]:
    code, message, fields = _EXAMPLES[status]
    return {"error": {"code": code, "message": message, "fields": fields}}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: the one error shape, with an example per status."""
    documented_errors: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        documented_errors[status] = {
            "model": ErrorBody,
            "description": _CODES[status].replace("_", " "),
            "content": {"application/json": {"example": _example(status)}},
        }
    return documented_errors


_FASTAPI_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def _document_one_shape(app: FastAPI) -> None:
    """Make the OpenAPI document say what :func:`_validation` answers.

    FastAPI documents a 422 of its own shape (``HTTPValidationError``) on every route with
    parameters that does not list one; this app never sends that shape.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _one_shape(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _one_shape(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path in document.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422", {})
            media = response.get("content", {}).get("application/json", {})
            if media.get("schema") == _FASTAPI_422:
                media["schema"] = {"$ref": "#/components/schemas/ErrorBody"}
                media["example"] = _example(422)
                response["description"] = _CODES[422].replace("_", " ")
    if "ErrorBody" not in schemas:
        error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs", {}))
        schemas["ErrorBody"] = error_schema
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _refers_to(document, f"#/components/schemas/{unused}"):
            schemas.pop(unused, None)
    return document


def _refers_to(document: dict[str, Any], ref: str) -> bool:
    return f'"$ref": "{ref}"' in json.dumps(document)
