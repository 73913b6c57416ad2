"""OpenAI-compatible chat completions over httpx (vLLM, Ollama, LiteLLM-style endpoints).

The verdict is requested as a forced function call; servers that ignore tools and answer in
the message text (plain or fenced JSON) are accepted too.
"""

from __future__ import annotations

import httpx

from tasseograph.llm._base import LLMUnavailable
from tasseograph.llm.errors import error_for_status
from tasseograph.llm.parse import (
    VERDICT_TOOL_DESCRIPTION,
    VERDICT_TOOL_NAME,
    ParsedReply,
    parse_openai_reply,
)
from tasseograph.llm.pipeline import PromptedAnalyzer
from tasseograph.llm.prompts import PromptTemplate, RenderedPrompt
from tasseograph.llm.settings import AnalyzerSettings, api_root
from tasseograph.protocol import VERDICT_JSON_SCHEMA

CHAT_PATH = "/v1/chat/completions"
VERDICT_FUNCTION = {
    "type": "function",
    "function": {"name": VERDICT_TOOL_NAME, "description": VERDICT_TOOL_DESCRIPTION,
                 "parameters": VERDICT_JSON_SCHEMA},
}


class OpenAIAnalyzer(PromptedAnalyzer):
    backend = "openai"

    def __init__(self, settings: AnalyzerSettings, prompt: PromptTemplate) -> None:
        super().__init__(settings, prompt)
        self.base_url = api_root(settings.resolved_base_url())
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers,
                                         timeout=settings.timeout)

    def request(self, rendered: RenderedPrompt) -> dict[str, object]:
        return {
            "model": self.model,
            "max_tokens": self.settings.max_tokens,
            "temperature": 0,
            "messages": [{"role": "system", "content": rendered.system},
                         {"role": "user", "content": rendered.user}],
            "tools": [VERDICT_FUNCTION],
            "tool_choice": {"type": "function", "function": {"name": VERDICT_TOOL_NAME}},
        }

    async def _exchange(self, rendered: RenderedPrompt) -> ParsedReply:
        try:
            response = await self._client.post(CHAT_PATH, json=self.request(rendered))
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"timed out after {self.settings.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise error_for_status(response.status_code, response.headers, response.text[:500])
        return parse_openai_reply(response.text)

    async def aclose(self) -> None:
        await self._client.aclose()
