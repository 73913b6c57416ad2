"""Suite files: corpora × prompts × backends/models × repeats, so one file reproduces a run.

Relative corpus paths resolve against the suite file's directory, so a suite means the same
thing from any working directory. The command-line flags build the same :class:`Suite`, and
every run writes its resolved suite to ``<out>/suite.yaml``: re-running that file reproduces it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tasseograph.config import Provider, build_config, check_prompt_ref, read_yaml_mapping
from tasseograph.llm.settings import AnalyzerSettings, api_root

DEFAULT_PROMPT = "dmesg_triage@v1"


class ModelSpec(BaseModel):
    """One backend/model and the parameters that change its answers (all part of the cache key)."""

    model_config = ConfigDict(extra="forbid")

    backend: Provider
    model: str | None = None
    base_url: str | None = None
    max_tokens: int | None = Field(default=None, ge=16)
    timeout: float | None = Field(default=None, gt=0)
    redact: bool | None = None
    collapse_repeats: bool | None = None

    def settings(self, prompt: str, api_key: str | None = None) -> AnalyzerSettings:
        """The analyzer settings for this spec; unset knobs keep the collector's defaults."""
        knobs = self.model_dump(exclude={"backend"}, exclude_none=True)
        return AnalyzerSettings(provider=self.backend, prompt=prompt, api_key=api_key, **knobs)

    def resolved_model(self) -> str:
        return self.settings(DEFAULT_PROMPT).resolved_model()

    def parameters(self) -> dict[str, Any]:
        """What changes a reply besides model and prompt, for the cache key (defaults resolved)."""
        settings = self.settings(DEFAULT_PROMPT)
        base_url = api_root(self.base_url) if self.base_url else None  # "/v1" or not: same server
        return {"base_url": base_url, "max_tokens": settings.max_tokens,
                "redact": settings.redact, "collapse_repeats": settings.collapse_repeats,
                "temperature": 0}


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "run"
    description: str | None = None
    corpora: list[str] = Field(default_factory=list)
    corpus_from_db: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=lambda: [DEFAULT_PROMPT], min_length=1)
    models: list[ModelSpec] = Field(default_factory=lambda: [ModelSpec(backend="rules")],
                                    min_length=1)
    repeats: int = Field(default=1, ge=1, le=100)
    concurrency: int = Field(default=8, ge=1, le=1024)
    max_retries: int = Field(default=3, ge=0, le=10)
    retry_backoff: float = Field(default=1.0, ge=0)
    out: str | None = None

    @field_validator("prompts")
    @classmethod
    def _prompt_refs(cls, value: list[str]) -> list[str]:
        return [check_prompt_ref(ref) for ref in value]

    @field_validator("models")
    @classmethod
    def _models_named(cls, value: list[ModelSpec]) -> list[ModelSpec]:
        for spec in value:
            spec.resolved_model()
        return value

    def combinations(self) -> list[tuple[str, ModelSpec]]:
        return [(prompt, spec) for spec in self.models for prompt in self.prompts]

    def resolve_paths(self, base: Path) -> Suite:
        """A copy whose relative paths are anchored at ``base`` (the suite file's directory)."""
        def anchor(path: str) -> str:
            return str(path if Path(path).is_absolute() else (base / path).resolve())

        return self.model_copy(update={
            "corpora": [anchor(p) for p in self.corpora],
            "corpus_from_db": [anchor(p) for p in self.corpus_from_db],
            "out": anchor(self.out) if self.out else None,
        })

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


def load_suite(path: Path) -> Suite:
    """Read and validate a suite file; problems raise ConfigError (one line naming the key)."""
    # a suite without corpora is fine: --corpus may supply them (the run checks there is one)
    suite = build_config(Suite, read_yaml_mapping(path), path)
    return suite.resolve_paths(path.resolve().parent)
