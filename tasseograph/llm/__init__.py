"""LLM layer: prompt templates, backends (anthropic, openai, rules), verdict parsing."""

from tasseograph.llm._base import (
    Analysis,
    Analyzer,
    InvalidLLMResponse,
    LLMError,
    LLMRateLimited,
    LLMUnavailable,
    Usage,
)
from tasseograph.llm.retry import analyze_with_retries

__all__ = [
    "Analysis",
    "Analyzer",
    "InvalidLLMResponse",
    "LLMError",
    "LLMRateLimited",
    "LLMUnavailable",
    "Usage",
    "analyze_with_retries",
]
