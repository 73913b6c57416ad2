"""Versioned prompt templates: ``prompts/NAME/VERSION.j2`` with YAML front matter.

A template declares the variables it uses; anything else it references is an error at load
time, not a silently empty string in production. Its identity ``NAME@VERSION#hash8`` (hash
of the whole source) is stored with every verdict, so an edited template is never confused
with the one an eval measured.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template, TemplateError, meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasseograph.protocol import CATEGORIES

#: The verdict JSON shape a template may promise (``output_schema`` in its front matter).
OUTPUT_SCHEMA_VERSION = 1
#: What the renderer supplies; a template may declare any subset.
RENDER_VARIABLES = frozenset({"lines", "categories", "line_count"})
REQUIRED_BLOCKS = ("system", "user")

_REF = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)@(?P<version>[A-Za-z0-9_.-]+)$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n---[ \t]*\n", re.DOTALL)
_DELIMITER_TAG = re.compile(r"<(/?\s*kernel_log)", re.IGNORECASE)


class PromptError(ValueError):
    """A prompt reference or template that cannot be used; the message names the file."""


class PromptNotFound(PromptError):
    """No template for NAME@VERSION; the message lists what exists."""


class PromptMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1)
    date: dt.date
    output_schema: int
    variables: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    meta: PromptMeta
    source: str
    origin: str
    template: Template

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def sha8(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:8]

    @property
    def identity(self) -> str:
        """``NAME@VERSION#hash8``: what every verdict and eval case records."""
        return f"{self.ref}#{self.sha8}"

    def render(self, lines: Sequence[str]) -> RenderedPrompt:
        """Render both parts; log lines cannot close the data delimiters they sit in."""
        context: dict[str, Any] = {
            "lines": [neutralize_delimiters(line) for line in lines],
            "categories": dict(CATEGORIES),
            "line_count": len(lines),
        }
        parts = {}
        for block in REQUIRED_BLOCKS:
            render_block = self.template.blocks[block]
            rendered = "".join(render_block(self.template.new_context(context)))
            parts[block] = rendered.strip() + "\n"
        return RenderedPrompt(system=parts["system"], user=parts["user"])


def neutralize_delimiters(line: str) -> str:
    """A line containing ``</kernel_log>`` must not end the data section early."""
    return _DELIMITER_TAG.sub(r"‹\1", line)


def _environment() -> Environment:
    return Environment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )


def parse_template(name: str, version: str, source: str, origin: str) -> PromptTemplate:
    """Validate front matter, blocks and variables; every problem is a PromptError naming origin."""
    match = _FRONT_MATTER.match(source)
    if not match:
        raise PromptError(f"{origin}: missing YAML front matter (a '---' block at the top)")
    try:
        raw_meta = yaml.safe_load(match.group("yaml"))
    except yaml.YAMLError as exc:
        raise PromptError(f"{origin}: front matter is not valid YAML: {exc}") from None
    if not isinstance(raw_meta, dict):
        raise PromptError(f"{origin}: front matter must be a mapping")
    try:
        prompt_meta = PromptMeta.model_validate(raw_meta)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        raise PromptError(f"{origin}: front matter key '{key}': {error['msg']}") from None
    if prompt_meta.output_schema != OUTPUT_SCHEMA_VERSION:
        raise PromptError(f"{origin}: output_schema {prompt_meta.output_schema} is not supported "
                          f"(this version speaks {OUTPUT_SCHEMA_VERSION})")
    unknown = set(prompt_meta.variables) - RENDER_VARIABLES
    if unknown:
        raise PromptError(f"{origin}: declares variables the renderer does not supply: "
                          f"{sorted(unknown)} (available: {sorted(RENDER_VARIABLES)})")
    body = source[match.end():]
    env = _environment()
    try:
        ast = env.parse(body)
        template = env.from_string(body)
    except TemplateError as exc:
        raise PromptError(f"{origin}: template syntax error: {exc}") from None
    undeclared = meta.find_undeclared_variables(ast) - set(prompt_meta.variables)
    if undeclared:
        raise PromptError(f"{origin}: uses undeclared variable(s) {sorted(undeclared)}; "
                          "declare them under 'variables' in the front matter")
    missing = [block for block in REQUIRED_BLOCKS if block not in template.blocks]
    if missing:
        raise PromptError(f"{origin}: missing block(s) {missing}; a prompt needs "
                          "{% block system %} and {% block user %}")
    return PromptTemplate(name, version, prompt_meta, source, origin, template)


def prompt_dirs() -> list[Traversable]:
    """Installed package first (``tasseograph/_prompts`` in the wheel), then the repo's prompts/."""
    dirs: list[Traversable] = []
    extra = os.environ.get("TASSEOGRAPH_PROMPTS_DIR")
    if extra:
        dirs.append(Path(extra))
    packaged = resources.files("tasseograph").joinpath("_prompts")
    if packaged.is_dir():
        dirs.append(packaged)
    repo = Path(__file__).resolve().parents[2] / "prompts"
    if repo.is_dir():
        dirs.append(repo)
    return dirs


def available_prompts(search_path: Iterable[Traversable] | None = None) -> list[str]:
    refs: set[str] = set()
    for base in prompt_dirs() if search_path is None else search_path:
        if not base.is_dir():
            continue
        for folder in base.iterdir():
            if folder.is_dir():
                refs.update(f"{folder.name}@{f.name[:-3]}" for f in folder.iterdir()
                            if f.name.endswith(".j2"))
    return sorted(refs)


def load_prompt(ref: str, search_path: Sequence[Traversable | str | os.PathLike[str]] | None = None
                ) -> PromptTemplate:
    """``NAME@VERSION`` → a validated template, or PromptError/PromptNotFound saying why."""
    match = _REF.match(ref)
    if not match:
        raise PromptError(f"prompt {ref!r}: expected NAME@VERSION, e.g. dmesg_triage@v1")
    name, version = match.group("name"), match.group("version")
    dirs = prompt_dirs() if search_path is None else [
        d if isinstance(d, Traversable) else Path(d) for d in search_path]
    for base in dirs:
        candidate = base.joinpath(name, f"{version}.j2")
        if candidate.is_file():
            try:
                source = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PromptError(f"{candidate}: cannot read: {exc}") from None
            return parse_template(name, version, source, str(candidate))
    known = ", ".join(available_prompts(dirs)) or "none"
    raise PromptNotFound(f"unknown prompt {ref!r}; available: {known}")
