"""A protocol-faithful fake inference server for tests and benchmarks.

A real HTTP server on 127.0.0.1 (stdlib, one thread per connection) that answers the
Anthropic Messages API (``POST /v1/messages``) and OpenAI chat completions
(``POST /v1/chat/completions``) the way the real services do, including usage counts,
tool-use replies and error bodies. Each test scripts it: queue replies with
:meth:`FakeInferenceServer.enqueue` (consumed one per request, then :attr:`default`),
or set :attr:`responder` to compute a reply from the request. Every request is recorded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK_VERDICT: dict[str, Any] = {"status": "ok", "issues": []}


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build them with the helper functions below."""

    kind: str  # verdict | text | http_error | malformed_json | stall
    verdict: dict[str, Any] | None = None
    text: str = ""
    mode: str = "auto"  # auto | tool | text | fenced: how a verdict is put in the reply
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def verdict(value: dict[str, Any], mode: str = "auto", delay: float = 0.0) -> Reply:
    """A verdict as tool use (when the request offered a tool), plain JSON text or fenced JSON."""
    return Reply("verdict", verdict=value, mode=mode, delay=delay)


def text(raw: str, delay: float = 0.0) -> Reply:
    """A well-formed API reply whose assistant text is ``raw`` (garbage, prose, …)."""
    return Reply("text", text=raw, delay=delay)


def invalid_verdict() -> Reply:
    """Valid JSON, valid API envelope, but not a valid verdict."""
    return verdict({"status": "maybe", "issues": "none"}, mode="text")


def http_error(status: int, retry_after: float | None = None) -> Reply:
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply("http_error", status=status, headers=headers)


def rate_limited(retry_after: float = 1.0) -> Reply:
    return http_error(429, retry_after=retry_after)


def overloaded() -> Reply:
    return http_error(529)


def malformed_json() -> Reply:
    """HTTP 200 with a body that is not JSON at all."""
    return Reply("malformed_json")


def stall(seconds: float) -> Reply:
    """Hold the request open (past the client's timeout), then answer ok if anyone still listens."""
    return Reply("stall", delay=seconds)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw_body: bytes
    received_at: float

    @property
    def prompt_text(self) -> str:
        """All message text the client sent (system included), for content assertions."""
        if not self.body:
            return ""
        parts: list[str] = []
        system = self.body.get("system")
        if isinstance(system, str):
            parts.append(system)
        elif isinstance(system, list):
            parts.extend(block.get("text", "") for block in system if isinstance(block, dict))
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(b.get("text", "") for b in content if isinstance(b, dict))
        return "\n".join(parts)


def min_cacheable_tokens(model: str) -> int:
    """Anthropic's documented floor for a cacheable prefix (Haiku 3/3.5: 2048; Haiku 4.5: 4096)."""
    if "haiku-4" in model:
        return 4096
    return 2048 if "haiku" in model else 1024


def _count_tokens(text_value: str) -> int:
    """Roughly four characters a token, as the providers' tokenizers average on English."""
    return max(1, len(text_value) // 4)


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


class FakeInferenceServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.default: Reply = verdict(OK_VERDICT)
        self.responder: Callable[[RecordedRequest], Reply] | None = None
        self.latency: float = 0.0
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._ids = itertools.count(1)
        self._cached_systems: set[str] = set()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeInferenceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeInferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting -------------------------------------------------------------------------
    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self._cached_systems.clear()
        self.default = verdict(OK_VERDICT)
        self.responder = None
        self.latency = 0.0

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(request)
        return self.default

    # -- protocol --------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = self.path.split("?", 1)[0]
                request = RecordedRequest(
                    path=path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    raw_body=raw,
                    received_at=time.monotonic(),
                )
                if path not in ("/v1/messages", "/v1/chat/completions"):
                    with server._lock:
                        server.requests.append(request)
                    self._send(404, {"error": {"message": f"no route {path}"}})
                    return
                reply = server._next_reply(request)
                wait = server.latency + reply.delay
                if wait and server._closing.wait(wait):
                    return
                if reply.kind == "stall":
                    reply = server.default
                # a client that gave up (timeout) is exactly what a stall tests
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(path, request, reply)

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
                      raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, path: str, request: RecordedRequest, reply: Reply) -> None:
                anthropic = path == "/v1/messages"
                if reply.kind == "http_error":
                    kind = _ERROR_TYPES.get(reply.status, "api_error")
                    body = (
                        {"type": "error", "error": {"type": kind, "message": kind}}
                        if anthropic
                        else {"error": {"message": kind, "type": kind, "code": reply.status}}
                    )
                    self._send(reply.status, body, reply.headers)
                    return
                if reply.kind == "malformed_json":
                    self._send(200, None, raw=b'{"id": "msg_broken", "content": [')
                    return
                if anthropic:
                    self._send(200, server._anthropic_body(request, reply))
                else:
                    self._send(200, server._openai_body(request, reply))

        return Handler

    def _reply_text(self, reply: Reply) -> str:
        if reply.kind == "text":
            return reply.text
        rendered = json.dumps(reply.verdict)
        if reply.mode == "fenced":
            return f"Here is the verdict:\n```json\n{rendered}\n```"
        return rendered

    def _anthropic_body(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        body = request.body or {}
        tools = body.get("tools") or []
        use_tool = reply.kind == "verdict" and reply.mode in ("auto", "tool") and tools
        if use_tool:
            content = [{"type": "tool_use", "id": f"toolu_{next(self._ids):08d}",
                        "name": tools[0].get("name", "verdict"), "input": reply.verdict}]
            output_text = json.dumps(reply.verdict)
        else:
            output_text = self._reply_text(reply)
            content = [{"type": "text", "text": output_text}]
        system = body.get("system")
        cached_tokens = 0
        cache_write = 0
        if isinstance(system, list):
            # the cached prefix is everything up to the marked block: tools, then system
            marked = [b for b in system if isinstance(b, dict) and b.get("cache_control")]
            cached_part = json.dumps(tools) + "".join(b.get("text", "") for b in marked) if marked else ""
            if cached_part and _count_tokens(cached_part) < min_cacheable_tokens(body.get("model", "")):
                cached_part = ""  # below the model's minimum: the API silently caches nothing
            if cached_part:
                with self._lock:
                    seen = cached_part in self._cached_systems
                    self._cached_systems.add(cached_part)
                if seen:
                    cached_tokens = _count_tokens(cached_part)
                else:
                    cache_write = _count_tokens(cached_part)
        total_in = _count_tokens(request.prompt_text + json.dumps(tools))
        return {
            "id": f"msg_{next(self._ids):012d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "unknown"),
            "content": content,
            "stop_reason": "tool_use" if use_tool else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": max(1, total_in - cached_tokens - cache_write),
                "output_tokens": _count_tokens(output_text),
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cached_tokens,
            },
        }

    def _openai_body(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        body = request.body or {}
        tools = body.get("tools") or []
        use_tool = reply.kind == "verdict" and reply.mode in ("auto", "tool") and tools
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if use_tool:
            arguments = json.dumps(reply.verdict)
            message["tool_calls"] = [{
                "id": f"call_{next(self._ids):08d}",
                "type": "function",
                "function": {"name": tools[0].get("function", {}).get("name", "verdict"),
                             "arguments": arguments},
            }]
            output_text = arguments
        else:
            output_text = self._reply_text(reply)
            message["content"] = output_text
        prompt_tokens = _count_tokens(request.prompt_text + json.dumps(tools))
        completion_tokens = _count_tokens(output_text)
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if use_tool else "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }
