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

__all__ = [
    "Analysis",
    "Analyzer",
    "InvalidLLMResponse",
    "LLMError",
    "LLMRateLimited",
    "LLMUnavailable",
    "Usage",
]
