"""The collector's HTTP surface: ``POST /ingest`` and ``GET /healthz``, replies per DESIGN.md.

The handler reads nothing before the Bearer token is checked, counts body bytes as they
stream in (413 past ``max_payload_bytes``, never buffering more), and turns every malformed
body into a 400 with a short reason (FastAPI's 422 is never produced).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from tasseograph import __version__
from tasseograph.collector.service import IngestError, IngestService
from tasseograph.collector.store import ResultStore
from tasseograph.config import CollectorConfig, ConfigError
from tasseograph.llm import Analyzer, AnalyzerSettings, PromptError, make_analyzer
from tasseograph.protocol import ErrorReply, IngestPayload, IngestReply

log = logging.getLogger("tasseograph.collector")

_bearer = HTTPBearer(auto_error=False, description="The shared agent secret (TASSEOGRAPH_API_KEY).")

_ERRORS: dict[int, str] = {
    400: "Malformed payload: invalid JSON, missing fields, wrong types, an invalid hostname.",
    401: "Missing or wrong Bearer token.",
    413: "Body larger than max_payload_bytes.",
    500: "Invalid LLM response (the raw reply is stored in an error row).",
    502: "LLM unavailable after the retries (an error row is stored).",
    503: "LLM rate limited: retry after the Retry-After header's seconds.",
}


def _request_schema() -> dict[str, Any]:
    """IngestPayload's JSON schema plus what its validators enforce, so generated data is fair."""
    schema = IngestPayload.model_json_schema()
    properties = schema["properties"]
    properties["hostname"]["pattern"] = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
    return schema


def parse_payload(body: bytes) -> IngestPayload:
    """Strict JSON types: ``"12"`` is not an integer."""
    try:
        payload = IngestPayload.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise IngestError(400, _validation_reason(exc)) from None
    return payload


def _error(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorReply(error=message).model_dump(), status_code=status_code,
                        headers=headers)


def _validation_reason(exc: ValidationError) -> str:
    """A short reason: the first problem's location and message, never the input itself."""
    first = exc.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        return "malformed JSON"
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"invalid payload: {where}: {message}" if where else f"invalid payload: {message}"


def authorized(credentials: HTTPAuthorizationCredentials | None, api_key: str) -> bool:
    """Constant-time comparison of the Bearer token with the shared secret."""
    if credentials is None:
        return False
    return hmac.compare_digest(credentials.credentials.encode(), api_key.encode())


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 from Content-Length or once the streamed bytes pass ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise IngestError(413, f"payload larger than {limit} bytes")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise IngestError(413, f"payload larger than {limit} bytes")
    except ClientDisconnect:  # nobody will read the answer; say so in the log, not a traceback
        raise IngestError(400, "client disconnected before the body was complete") from None
    return bytes(body)


def _make_analyzer(config: CollectorConfig) -> Analyzer:
    try:
        return make_analyzer(AnalyzerSettings.from_collector_config(config))
    except PromptError as exc:
        raise ConfigError(None, "prompt", str(exc)) from None
    except ValueError as exc:
        raise ConfigError(None, "llm_provider", str(exc)) from None


def create_app(config: CollectorConfig, analyzer: Analyzer | None = None) -> FastAPI:
    """Build the app and open its database now (a bad db_path fails here, not on a request).

    The app owns ``analyzer`` (default: the one the config describes) and closes it, with
    the database, at shutdown. Raises ConfigError for a bad prompt/provider or db_path.
    """
    analyzer = analyzer if analyzer is not None else _make_analyzer(config)
    app = build_app()
    app.state.config = config
    app.state.service = IngestService(config, analyzer, ResultStore(config.db_path))
    return app


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI document of the collector's API, without a config or a database."""
    return build_app().openapi()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: IngestService = app.state.service
    log.info("event=collector_ready backend=%s model=%s prompt=%s db=%s", service.llm.backend,
             service.llm.model, service.llm.prompt_version, service.store.path)
    yield
    await service.aclose()


def build_app() -> FastAPI:
    """Routes and error handlers; :func:`create_app` attaches the config and the service."""
    app = FastAPI(title="tasseograph collector", version=__version__, lifespan=_lifespan,
                  docs_url=None, redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("event=internal_error path=%s", request.url.path)
        return _error(500, "internal error")

    @app.get("/healthz", summary="Liveness, without auth")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/ingest",
        summary="Push new kernel-log lines; get the stored verdict",
        response_model=IngestReply,
        responses={code: {"model": ErrorReply, "description": text} | (
            {"headers": {"Retry-After": {"description": "seconds to wait",
                                         "schema": {"type": "integer"}}}} if code == 503 else {})
                   for code, text in _ERRORS.items()},
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": _request_schema()}}}},
    )
    async def ingest(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(_bearer),
    ) -> JSONResponse:
        config: CollectorConfig = request.app.state.config
        service: IngestService = request.app.state.service
        client = request.client.host if request.client else "-"
        if not authorized(credentials, config.api_key):
            # nothing of the body has been read, and nothing of it is logged
            log.warning("event=auth_failed client=%s reason=%s", client,
                        "no Bearer token" if credentials is None else "wrong token")
            return _error(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
        try:
            body = await read_limited(request, config.max_payload_bytes)
            payload = parse_payload(body)
            reply = await service.ingest(payload)
        except IngestError as exc:
            log.warning("event=ingest_refused client=%s status=%d reason=%r", client,
                        exc.status_code, exc.message)
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            return _error(exc.status_code, exc.message, headers)
        log.info("event=ingest host=%s batch=%s lines=%d id=%d status=%s issues=%d duplicate=%s",
                 payload.hostname, payload.batch_id, len(payload.lines), reply.id, reply.status,
                 len(reply.issues), str(reply.duplicate).lower())
        return JSONResponse(reply.model_dump(mode="json"))

    return app
