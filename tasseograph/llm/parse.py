"""Turn an LLM reply into a validated Verdict, for both wire formats.

Accepted: tool-use input (Anthropic ``tool_use`` blocks, OpenAI ``tool_calls``), a reply
text that is plain JSON, or JSON inside a ``` fence. Anything else, or anything that is not a
valid Verdict, is :class:`InvalidLLMResponse` carrying the raw reply: nothing else escapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tasseograph.llm._base import InvalidLLMResponse, Usage
from tasseograph.protocol import Verdict

VERDICT_TOOL_NAME = "report_verdict"
VERDICT_TOOL_DESCRIPTION = "Report the triage verdict for the kernel-log lines."

#: A ``` fence with any (or no) language tag; the first one holding JSON wins.
_FENCE = re.compile(r"```[ \t]*[\w+.-]*[ \t]*\r?\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ParsedReply:
    verdict: Verdict
    output: str  # what the model produced: tool input as JSON, or its text
    usage: Usage


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def validate_verdict(value: Any, raw: str, usage: Usage | None = None) -> Verdict:
    if not isinstance(value, dict):
        raise InvalidLLMResponse("reply is not a JSON object", raw=raw, usage=usage)
    try:
        return Verdict.model_validate(value)
    except ValidationError as exc:
        raise InvalidLLMResponse(f"reply is not a valid verdict: {_first_error(exc)}", raw=raw,
                                 usage=usage) from None
    except RecursionError:
        raise InvalidLLMResponse("reply is not a valid verdict: nested too deeply", raw=raw,
                                 usage=usage) from None


def _first_error(exc: ValidationError) -> str:
    """``issues.0.category: Value error, unknown category 'x'``: the operator sees what broke."""
    errors = exc.errors()
    if not errors:
        return str(exc)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(root)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def parse_verdict_text(text: str, usage: Usage | None = None) -> Verdict:
    """Plain JSON, or the first ``` fence holding a JSON object."""
    if not isinstance(text, str):
        raise InvalidLLMResponse("reply text is not a string", raw=repr(text), usage=usage)
    value = _loads(text.strip())
    if value is None:
        for block in _FENCE.findall(text):
            value = _loads(block.strip())
            if value is not None:
                break
    if value is None:
        raise InvalidLLMResponse("reply is neither JSON nor a fenced JSON block", raw=text,
                                 usage=usage)
    return validate_verdict(value, raw=text, usage=usage)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _envelope(body: str) -> dict[str, Any]:
    value = _loads(body)
    if not isinstance(value, dict):
        raise InvalidLLMResponse("API reply is not a JSON object", raw=body)
    return value


def anthropic_usage(message: dict[str, Any]) -> Usage:
    usage = message.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return Usage(
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
        cache_write_tokens=_int(usage.get("cache_creation_input_tokens")),
    )


def parse_anthropic_reply(body: str) -> ParsedReply:
    """A Messages API reply body: the verdict tool's input, else the text blocks."""
    message = _envelope(body)
    usage = anthropic_usage(message)
    content = message.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    for block in blocks:
        if block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
            output = json.dumps(block["input"], ensure_ascii=False)
            return ParsedReply(validate_verdict(block["input"], raw=body, usage=usage), output, usage)
    text = "".join(b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str))
    if not text.strip():
        raise InvalidLLMResponse("reply has neither a verdict tool call nor text", raw=body,
                                 usage=usage)
    return ParsedReply(_parse_text_keeping_body(text, body, usage), text, usage)


def openai_usage(completion: dict[str, Any]) -> Usage:
    usage = completion.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    prompt = _int(usage.get("prompt_tokens"))
    return Usage(input_tokens=max(0, prompt - cached),
                 output_tokens=_int(usage.get("completion_tokens")),
                 cache_read_tokens=cached)


def parse_openai_reply(body: str) -> ParsedReply:
    """A chat completion body: the verdict function call's arguments, else the message text."""
    completion = _envelope(body)
    usage = openai_usage(completion)
    choices = completion.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        raise InvalidLLMResponse("reply has no choices[0].message", raw=body, usage=usage)
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if isinstance(arguments, dict):  # some servers send an object, not a string
            arguments = json.dumps(arguments)
        if isinstance(arguments, str):
            return ParsedReply(_parse_text_keeping_body(arguments, body, usage), arguments, usage)
    text = message.get("content")
    if isinstance(text, list):  # content parts
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict)
                       and isinstance(p.get("text"), str))
    if not isinstance(text, str) or not text.strip():
        raise InvalidLLMResponse("reply has neither a verdict tool call nor text", raw=body,
                                 usage=usage)
    return ParsedReply(_parse_text_keeping_body(text, body, usage), text, usage)


def _parse_text_keeping_body(text: str, body: str, usage: Usage) -> Verdict:
    """Parse the model's text; on failure keep the whole API body as the raw reply."""
    try:
        return parse_verdict_text(text, usage=usage)
    except InvalidLLMResponse as exc:
        raise InvalidLLMResponse(str(exc), raw=body, usage=usage) from None
