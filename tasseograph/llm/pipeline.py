"""The steps both LLM backends share: collapse, redact, render, call, parse, restore, account.

A backend only implements :meth:`PromptedAnalyzer._exchange` (one HTTP request, mapped
errors, a parsed reply); everything that must behave the same across providers lives here.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence

from tasseograph.llm._base import Analysis, InvalidLLMResponse, Usage
from tasseograph.llm.collapse import collapse_repeats
from tasseograph.llm.cost import estimate_cost
from tasseograph.llm.parse import ParsedReply
from tasseograph.llm.prompts import PromptTemplate, RenderedPrompt
from tasseograph.llm.redact import Redactor
from tasseograph.llm.settings import AnalyzerSettings
from tasseograph.protocol import Issue, Status, Verdict


class PromptedAnalyzer(ABC):
    backend: str = ""

    def __init__(self, settings: AnalyzerSettings, prompt: PromptTemplate) -> None:
        self.settings = settings
        self.prompt = prompt
        self.model = settings.resolved_model()
        self.prompt_version = prompt.identity

    def prepare(self, lines: Sequence[str]) -> tuple[RenderedPrompt, Redactor | None]:
        """What the LLM will see for ``lines`` (also used by tests and dry runs)."""
        prepared = collapse_repeats(lines) if self.settings.collapse_repeats else list(lines)
        redactor = Redactor() if self.settings.redact else None
        if redactor is not None:
            prepared = redactor.redact_all(prepared)
        return self.prompt.render(prepared), redactor

    async def analyze(self, lines: Sequence[str]) -> Analysis:
        lines = [line.rstrip("\r\n") for line in lines]
        if not any(line.strip() for line in lines):
            return self._analysis(Verdict(status=Status.ok), '{"status": "ok", "issues": []}',
                                  Usage(), 0)
        rendered, redactor = self.prepare(lines)
        started = time.perf_counter()
        try:
            reply = await self._exchange(rendered)
        except InvalidLLMResponse as exc:
            exc.model, exc.prompt_version = self.model, self.prompt_version
            raise
        latency_ms = round((time.perf_counter() - started) * 1000)
        verdict = _restore(reply.verdict, redactor) if redactor else reply.verdict
        return self._analysis(verdict, reply.output, reply.usage, latency_ms)

    def _analysis(self, verdict: Verdict, raw: str, usage: Usage, latency_ms: int) -> Analysis:
        return Analysis(
            verdict=verdict, raw_response=raw, backend=self.backend, model=self.model,
            prompt_version=self.prompt_version, usage=usage, latency_ms=latency_ms,
            cost_usd=estimate_cost(usage, self.model, self.settings.prices),
        )

    @abstractmethod
    async def _exchange(self, rendered: RenderedPrompt) -> ParsedReply:
        """One request; raise LLMUnavailable / LLMRateLimited / InvalidLLMResponse."""

    @abstractmethod
    async def aclose(self) -> None: ...


def _restore(verdict: Verdict, redactor: Redactor) -> Verdict:
    """Operators read real values in the stored verdict; only the LLM saw placeholders."""
    issues = [
        Issue(severity=i.severity, category=i.category, summary=redactor.restore(i.summary),
              evidence=[redactor.restore(e) for e in i.evidence])
        for i in verdict.issues
    ]
    return Verdict(status=verdict.status, issues=issues)
