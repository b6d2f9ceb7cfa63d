"""Campaign configuration: a TOML file, overridden by CLI flags, validated by pydantic."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scientist.errors import ConfigError

ModelSpec = str | list[str]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelsConfig(Section):
    """Which model answers each role; a list makes a pool chosen per call."""

    default: ModelSpec = "none"
    ideas: ModelSpec | None = None
    code: ModelSpec | None = None
    write: ModelSpec | None = None
    review: ModelSpec | None = None
    base_url: str | None = Field(default=None, description="for OpenAI-compatible servers")
    max_retries: int = Field(default=4, ge=0, le=10)
    format_retries: int = Field(default=2, ge=0, le=10)
    timeout_s: float = Field(default=120, gt=0)
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="model -> (USD per 1M input, per 1M output tokens)"
    )

    @field_validator("base_url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return url

    def for_role(self, role: str) -> list[str]:
        spec = getattr(self, role, None) or self.default
        return [spec] if isinstance(spec, str) else list(spec)

    @property
    def offline(self) -> bool:
        return all(self.for_role(role) == ["none"] for role in ("ideas", "code", "write", "review"))


class SandboxConfig(Section):
    kind: Literal["local", "docker", "ray"] = "local"
    cpus: float = Field(default=1.0, gt=0)
    memory_mb: int = Field(default=4096, ge=256)
    pids: int = Field(default=512, ge=16)
    timeout_s: float | None = Field(default=None, gt=0, description="default: the pack's")
    gpus: list[int] = Field(default_factory=list, description="GPU ids runs may use")
    image: str | None = None
    ray_address: str | None = None
    ray_node_backend: Literal["local", "docker"] = Field(
        default="local", description="the backend each Ray task runs its spec with"
    )


class WriteupConfig(Section):
    enabled: bool = True
    page_limit: int = Field(default=8, ge=1)
    compile_in: Literal["host", "sandbox"] = "host"
    fix_rounds: int = Field(default=3, ge=0, le=10)
    compile_timeout_s: float = Field(default=120, gt=0)
    two_column: bool = False


class ReviewConfig(Section):
    enabled: bool = True
    ensemble: int = Field(default=3, ge=1, le=10)
    reflections: int = Field(default=1, ge=0, le=5)
    accept_threshold: float = Field(default=6.0, ge=1, le=10)


class CampaignConfig(Section):
    template: str = Field(description="pack name under templates/ or a path to a pack")
    name: str | None = Field(default=None, description="default: <template>-<timestamp>")
    campaign_dir: Path | None = Field(default=None, description="default: campaigns/<name>")
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    budget_usd: float | None = Field(default=None, ge=0)
    max_ideas: int = Field(default=3, ge=1, le=1000)
    max_runs_per_idea: int = Field(default=2, ge=1, le=20)
    max_parallel: int = Field(default=1, ge=1, le=64)
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    smoke: bool = False
    search: Literal["linear", "abmcts"] = "linear"
    search_budget: int = Field(default=6, ge=1, le=200, description="tree-search expansions")
    debug_attempts: int = Field(default=2, ge=0, le=10)
    literature: Literal["semantic_scholar", "off"] = Field(
        default="semantic_scholar",
        description="'off' (or SCIENTIST_LITERATURE=off): citations and novelty from cache only",
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    writeup: WriteupConfig = Field(default_factory=WriteupConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(root)"
    extra = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown field '{field}'{extra}: remove it or check its spelling"
    if first["type"] == "missing":
        return f"{source}: field '{field}' is required{extra}: set it in the file or by a flag"
    return f"{source}: field '{field}': {first['msg']}{extra}: fix the value"


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c = value` in a nested dict, creating tables as needed."""
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set '{dotted}': '{part}' is not a table")
    node[leaf] = value


def load_config(
    path: Path | None = None, overrides: dict[str, Any] | None = None
) -> CampaignConfig:
    """Read `path` (TOML), apply dotted-key `overrides` (None values are ignored), validate."""
    data: dict[str, Any] = {}
    source = "config"
    if path is not None:
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {path} is a directory, not a TOML file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    for key, value in (overrides or {}).items():
        if value is not None:
            set_dotted(data, key, value)
    try:
        return CampaignConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def dump_config(config: CampaignConfig) -> str:
    """The resolved configuration as TOML (None values omitted)."""
    import tomli_w

    return tomli_w.dumps(config.model_dump(mode="json", exclude_none=True))
