"""What it takes to build an analyzer: one pydantic model shared by collector, evals and CLI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tasseograph.config import DEFAULT_PRICES, CollectorConfig, PriceTable, Provider

#: Used when settings leave the model empty (the seed's pilot model for anthropic).
DEFAULT_MODELS: dict[str, str] = {
    "anthropic": CollectorConfig.model_fields["llm_model"].default,
    "rules": "rules",
}
DEFAULT_BASE_URLS: dict[str, str] = {"anthropic": "https://api.anthropic.com"}


class AnalyzerSettings(BaseModel):
    """Backend choice and knobs; empty model/base_url/api_key fall back to per-provider defaults."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider = "rules"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    prompt: str = "dmesg_triage@v1"
    timeout: float = Field(default=30.0, gt=0)
    max_tokens: int = Field(default=1024, ge=16)
    redact: bool = False
    collapse_repeats: bool = True
    prices: dict[str, PriceTable] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @classmethod
    def from_collector_config(cls, cfg: CollectorConfig) -> AnalyzerSettings:
        return cls(
            provider=cfg.llm_provider,
            model=cfg.llm_model,
            base_url=cfg.llm_base_url,
            api_key=cfg.llm_api_key or None,
            prompt=cfg.prompt,
            timeout=cfg.llm_timeout,
            max_tokens=cfg.llm_max_tokens,
            redact=cfg.redact,
            collapse_repeats=cfg.collapse_repeats,
            prices=dict(cfg.prices),
        )

    def resolved_model(self) -> str:
        if self.provider == "rules":
            return "rules"
        if self.model:
            return self.model
        if self.provider in DEFAULT_MODELS:
            return DEFAULT_MODELS[self.provider]
        raise AnalyzerSettingsError(f"the {self.provider} backend needs a model (--model / llm_model)")

    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url
        if self.provider in DEFAULT_BASE_URLS:
            return DEFAULT_BASE_URLS[self.provider]
        raise AnalyzerSettingsError(
            f"the {self.provider} backend needs a base URL (--base-url / llm_base_url)"
        )

    def check(self) -> None:
        """What the chosen backend needs (model, base URL, key), or AnalyzerSettingsError."""
        if self.provider == "rules":
            return
        self.resolved_model()
        self.resolved_base_url()
        if self.provider == "anthropic" and not self.api_key:
            raise AnalyzerSettingsError(
                "the anthropic backend needs an API key (set TASSEOGRAPH_LLM_API_KEY)")


class AnalyzerSettingsError(ValueError):
    """Settings that cannot make an analyzer (missing model, base URL or key)."""


def api_root(base_url: str) -> str:
    """The seed's llm_base_url may end in /v1 or not; requests always go to <root>/v1/…."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1").rstrip("/")
