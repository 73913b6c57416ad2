"""Settings → the analyzer that implements them. Backend modules load only when chosen."""

from __future__ import annotations

from tasseograph.llm._base import Analyzer
from tasseograph.llm.prompts import load_prompt
from tasseograph.llm.rules import RulesAnalyzer
from tasseograph.llm.settings import AnalyzerSettings


def make_analyzer(settings: AnalyzerSettings) -> Analyzer:
    """Validates everything up front (prompt, model, key) so a bad setting fails at startup.

    Raises a ValueError subclass (PromptError, AnalyzerSettingsError) naming the problem.
    """
    prompt = load_prompt(settings.prompt)  # even for rules: a mistyped prompt is never ignored
    if settings.provider == "rules":
        return RulesAnalyzer(settings)
    if settings.provider == "anthropic":
        from tasseograph.llm.anthropic_backend import AnthropicAnalyzer

        return AnthropicAnalyzer(settings, prompt)
    from tasseograph.llm.openai_backend import OpenAIAnalyzer

    return OpenAIAnalyzer(settings, prompt)
