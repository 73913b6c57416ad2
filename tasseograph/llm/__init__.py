"""LLM layer: prompt templates, backends (anthropic, openai, rules), verdict parsing.

Importing this package loads neither the anthropic SDK nor httpx: backends load in
:func:`make_analyzer` when chosen.
"""

from tasseograph.llm._base import (
    Analysis,
    Analyzer,
    InvalidLLMResponse,
    LLMError,
    LLMRateLimited,
    LLMUnavailable,
    Usage,
)
from tasseograph.llm.factory import make_analyzer
from tasseograph.llm.prompts import PromptError, PromptNotFound, PromptTemplate, load_prompt
from tasseograph.llm.retry import analyze_with_retries
from tasseograph.llm.rules import RulesAnalyzer
from tasseograph.llm.settings import AnalyzerSettings, AnalyzerSettingsError

__all__ = [
    "Analysis",
    "Analyzer",
    "AnalyzerSettings",
    "AnalyzerSettingsError",
    "InvalidLLMResponse",
    "LLMError",
    "LLMRateLimited",
    "LLMUnavailable",
    "PromptError",
    "PromptNotFound",
    "PromptTemplate",
    "RulesAnalyzer",
    "Usage",
    "analyze_with_retries",
    "load_prompt",
    "make_analyzer",
]
