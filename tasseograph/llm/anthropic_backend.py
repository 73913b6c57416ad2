"""Anthropic Messages API through the official SDK: forced tool use, cached system part.

SDK retries are off (the caller owns the retry policy, so attempts are exact); every SDK
failure becomes one of the analyzer errors.
"""

from __future__ import annotations

import json
import logging

import anthropic

from tasseograph.llm._base import LLMUnavailable
from tasseograph.llm.errors import error_for_status
from tasseograph.llm.parse import (
    VERDICT_TOOL_DESCRIPTION,
    VERDICT_TOOL_NAME,
    ParsedReply,
    parse_anthropic_reply,
)
from tasseograph.llm.pipeline import PromptedAnalyzer
from tasseograph.llm.prompts import PromptTemplate, RenderedPrompt
from tasseograph.llm.settings import AnalyzerSettings, api_root
from tasseograph.protocol import VERDICT_JSON_SCHEMA

log = logging.getLogger("tasseograph.llm")

#: Roughly four characters per token, as Anthropic's tokenizer averages on English and JSON.
CHARS_PER_TOKEN = 4


def minimum_cacheable_tokens(model: str) -> int:
    """Anthropic's documented floor for a cached prefix; below it the API silently caches nothing."""
    if "haiku-4" in model:
        return 4096
    return 2048 if "haiku" in model else 1024


VERDICT_TOOL = {
    "name": VERDICT_TOOL_NAME,
    "description": VERDICT_TOOL_DESCRIPTION,
    "input_schema": VERDICT_JSON_SCHEMA,
}


class AnthropicAnalyzer(PromptedAnalyzer):
    backend = "anthropic"

    def __init__(self, settings: AnalyzerSettings, prompt: PromptTemplate) -> None:
        super().__init__(settings, prompt)
        settings.check()
        self.base_url = api_root(settings.resolved_base_url())
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.api_key,
            base_url=self.base_url,
            max_retries=0,
            timeout=settings.timeout,
            # this SDK authenticates with a Bearer header; gateways written against the
            # documented Messages API look for x-api-key, so send both
            default_headers={"x-api-key": settings.api_key},
        )
        self.cacheable_prefix_tokens = self._static_prefix_tokens()
        self.prompt_cache_applies = (
            self.cacheable_prefix_tokens >= minimum_cacheable_tokens(self.model))
        if not self.prompt_cache_applies:
            log.warning(
                "prompt %s: its static prefix (tools + system, about %d tokens) is below the "
                "%d-token minimum Anthropic caches for %s: prompt caching will not apply and "
                "every call pays full input price for it", self.prompt_version,
                self.cacheable_prefix_tokens, minimum_cacheable_tokens(self.model), self.model)

    def _static_prefix_tokens(self) -> int:
        """The tools and the system part are the same on every call: that is what gets cached."""
        system = self.prompt.render(["-"]).system
        return (len(json.dumps(VERDICT_TOOL)) + len(system)) // CHARS_PER_TOKEN

    def request(self, rendered: RenderedPrompt) -> dict[str, object]:
        """The Messages request; no ``temperature``: the 2.x SDK no longer accepts one."""
        return {
            "model": self.model,
            "max_tokens": self.settings.max_tokens,
            "system": [{"type": "text", "text": rendered.system,
                        "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": rendered.user}],
            "tools": [VERDICT_TOOL],
            "tool_choice": {"type": "tool", "name": VERDICT_TOOL_NAME},
        }

    async def _exchange(self, rendered: RenderedPrompt) -> ParsedReply:
        try:
            response = await self._client.messages.with_raw_response.create(
                **self.request(rendered))  # type: ignore[arg-type]
            body = await response.text()
        except anthropic.APIStatusError as exc:
            detail = getattr(exc, "api_message", None) or exc.message  # older SDKs lack it
            raise error_for_status(exc.status_code, exc.response.headers, detail) from exc
        except anthropic.APITimeoutError as exc:
            raise LLMUnavailable(f"timed out after {self.settings.timeout:g} s") from exc
        except anthropic.APIError as exc:  # connection errors and anything else on the wire
            raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return parse_anthropic_reply(body)

    async def aclose(self) -> None:
        await self._client.close()
