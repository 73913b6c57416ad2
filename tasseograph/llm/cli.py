"""``tasseograph analyze``: one verdict for a log file or stdin (``dmesg -T | tasseograph analyze -``).

Nothing heavy at module level: ``tasseograph --help`` imports this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tasseograph._cli import EXIT_USAGE, choice, config_errors, fail
from tasseograph.config import PROVIDERS


def analyze(
    file: Annotated[str, typer.Argument(metavar="[FILE|-]", help="Log file, or - for stdin.")] = "-",
    backend: Annotated[str | None, typer.Option(
        "--backend", help="rules | anthropic | openai (default: the config's, else anthropic "
                          "when TASSEOGRAPH_LLM_API_KEY is set, else rules).")] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", metavar="NAME@VERSION",
                                               help="Prompt template (default dmesg_triage@v1).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Inference base URL (with or "
                                                                    "without /v1).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="A collector config to take the "
                                                                 "LLM settings from.")] = None,
    max_retries: Annotated[int | None, typer.Option("--max-retries", min=0, max=10,
                                                    help="Retries when the LLM is down (default: "
                                                         "the config's, else 3).")] = None,
    details: Annotated[bool, typer.Option("--details", help="Print backend, model, prompt version, "
                                                            "tokens and cost with the verdict.")] = False,
) -> None:
    """Print the verdict JSON for a kernel log (reads the LLM key from TASSEOGRAPH_LLM_API_KEY)."""
    import asyncio

    from tasseograph.config import ENV_LLM_API_KEY, CollectorConfig, build_config, read_yaml_mapping
    from tasseograph.llm import (
        AnalyzerSettings,
        InvalidLLMResponse,
        LLMError,
        LLMRateLimited,
        analyze_with_retries,
        make_analyzer,
    )

    choice("--backend", backend, PROVIDERS)
    env_key = os.environ.get(ENV_LLM_API_KEY, "")
    retries, backoff = 3, 1.0
    with config_errors():
        if config is not None:
            data = read_yaml_mapping(config)
            if env_key:
                data["llm_api_key"] = env_key
            cfg = build_config(CollectorConfig, data, config)
            settings = AnalyzerSettings.from_collector_config(cfg)
            retries, backoff = cfg.max_retries, cfg.retry_backoff
        else:
            settings = AnalyzerSettings(provider="anthropic", api_key=env_key or None)
    updates: dict[str, object] = {k: v for k, v in
                                  {"provider": backend, "prompt": prompt, "model": model,
                                   "base_url": base_url}.items() if v is not None}
    # no key is the demo's case, not an error: answer offline and say so (once it works)
    offline = backend is None and settings.provider == "anthropic" and not settings.api_key
    if offline:
        updates["provider"] = "rules"
    settings = settings.model_copy(update=updates)
    if max_retries is not None:
        retries = max_retries

    lines = _read_lines(file)
    try:
        analyzer = make_analyzer(settings)
    except ValueError as exc:  # PromptError, AnalyzerSettingsError
        raise fail(str(exc), EXIT_USAGE) from None
    if offline:
        print(f"tasseograph: no {ENV_LLM_API_KEY}: using the offline rules backend", file=sys.stderr)

    async def run() -> str:
        try:
            analysis = await analyze_with_retries(analyzer, lines, max_retries=retries,
                                                  backoff=backoff)
        finally:
            await analyzer.aclose()
        if details:
            return analysis.model_dump_json(indent=2)
        return analysis.verdict.model_dump_json(indent=2)

    try:
        print(asyncio.run(run()))
    except LLMRateLimited as exc:
        raise fail(f"LLM rate limited: retry after {exc.retry_after:g} s") from None
    except InvalidLLMResponse as exc:
        raise fail(f"invalid LLM response: {exc} (raw: {exc.raw[:200]!r})") from None
    except LLMError as exc:
        raise fail(f"LLM unavailable: {exc}") from None


def _read_lines(file: str) -> list[str]:
    """Kernel logs may hold invalid UTF-8: replace it rather than refuse the whole log."""
    if file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise fail(f"{file}: cannot read: {exc.strerror or exc}", EXIT_USAGE) from None
    return data.decode("utf-8", errors="replace").splitlines()
