"""Campaign configuration: a TOML file, overridden by CLI flags, validated by pydantic."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scientist.backends import backend, validate_options
from scientist.errors import ConfigError
from scientist.models import MAX_CPUS, MAX_MEMORY_MB, MAX_PIDS, MAX_TIMEOUT_S

ModelSpec = str | list[str]
Role = Literal["ideas", "code", "write", "review", "vision"]
ROLES: tuple[Role, ...] = get_args(Role)
"""The roles a model answers; each is a field of `ModelsConfig`."""
OFFLINE = "none"
"""The model spec that selects no model: the role's offline strategy runs."""
PriceValues = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=2, max_length=4)]
"""A model's price (`scientist.llm.pricing.Price.of`): input, output, then optionally
cached input and cache writes, in USD per 1M tokens."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class CapabilityOverride(Section):
    """One model's entry in `[models.capabilities]` (see `scientist.llm.capabilities`)."""

    reasoning: bool | None = None
    temperature: bool | None = None
    vision: bool | None = None
    constrained: bool | None = None


def is_offline(spec: str | list[str]) -> bool:
    """True when the spec selects no model (`none` in any case, or nothing): the one test of
    whether a role is offline."""
    specs = [spec] if isinstance(spec, str) else spec
    return all(item.strip().lower() in (OFFLINE, "") for item in specs)


class ModelsConfig(Section):
    """Which model answers each role; a list makes a pool chosen per call."""

    default: ModelSpec = "none"
    ideas: ModelSpec | None = None
    code: ModelSpec | None = None
    write: ModelSpec | None = None
    review: ModelSpec | None = None
    vision: ModelSpec | None = Field(
        default=None,
        description="looks at figures; unset: each role's own model when it accepts images",
    )
    base_url: str | None = Field(default=None, description="for OpenAI-compatible servers")
    max_retries: int = Field(default=4, ge=0, le=10)
    format_retries: int = Field(default=2, ge=0, le=10)
    timeout_s: float = Field(default=120, gt=0, le=MAX_TIMEOUT_S)
    prices: dict[str, PriceValues] = Field(
        default_factory=dict,
        description="model -> USD per 1M tokens: [input, output, cached input, cache writes] "
        "(the cache prices optional: each left out is the input price)",
    )
    capabilities: dict[str, CapabilityOverride] = Field(
        default_factory=dict, description="model spec or name -> what its API accepts"
    )
    allow_unpriced: bool = Field(
        default=False, description="run under a budget with paid models that have no price"
    )
    local_max_tokens: int = Field(
        default=512,
        ge=16,
        description="the most tokens a local: model writes in one answer (CPU generation is slow)",
    )
    local_context_tokens: int | None = Field(
        default=None,
        ge=256,
        description="the most tokens (prompt and answer) a local: model is given; "
        "unset: its whole context window, read from its config",
    )

    @field_validator("default", *ROLES)
    @classmethod
    def _one_offline_spelling(cls, spec: ModelSpec | None) -> ModelSpec | None:
        """`None`, `NONE`, an empty string: each is written `none`."""
        if isinstance(spec, str):
            return OFFLINE if is_offline(spec) else spec
        if spec is not None:
            return [OFFLINE if is_offline(item) else item for item in spec]
        return spec

    @field_validator("base_url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return url

    def for_role(self, role: str) -> list[str]:
        """`role`'s model specs; an unset role uses `default`, except `vision`, which is
        only what it names."""
        spec = getattr(self, role, None) or (None if role == "vision" else self.default)
        if spec is None:
            return []
        return [spec] if isinstance(spec, str) else list(spec)


class SandboxConfig(Section):
    """The limits every backend enforces, and which backend (`kind`) runs the experiments.

    A backend's own options are a table named after it (`[sandbox.docker]`, `[sandbox.ray]`),
    validated by that backend's options model (`scientist.sandbox.backend_options`); which
    kinds exist is the sandbox registry's business, not this model's.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True, allow_inf_nan=False)

    kind: str = "local"
    cpus: float = Field(default=1.0, gt=0, le=MAX_CPUS)
    memory_mb: int = Field(default=4096, ge=256, le=MAX_MEMORY_MB)
    pids: int = Field(default=512, ge=16, le=MAX_PIDS)
    timeout_s: float | None = Field(
        default=None, gt=0, le=MAX_TIMEOUT_S, description="default: the pack's"
    )
    gpus: list[int] = Field(default_factory=list, description="GPU ids runs may use")

    @model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        """Campaigns written before backends had their own tables kept these options flat;
        they move into the tables, and the old default (`ray_node_backend = "local"`) goes."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        moves = {
            "image": ("docker", "image"),
            "ray_address": ("ray", "address"),
            "ray_node_backend": ("ray", "node_backend"),
        }
        for key, (kind, option) in moves.items():
            value = data.pop(key, None)
            if value is not None and (key, value) != ("ray_node_backend", "local"):
                data[kind] = {**data.get(kind, {}), option: value}
        return data

    @property
    def backend_tables(self) -> dict[str, dict[str, Any]]:
        """The backends' own tables (`[sandbox.<kind>]`), by kind."""
        return dict(self.model_extra or {})

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        try:
            backend(kind)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return kind

    @model_validator(mode="after")
    def _backend_tables(self) -> SandboxConfig:
        for kind, table in self.backend_tables.items():
            if not isinstance(table, dict):
                raise ValueError(f"sandbox.{kind} must be a table of that backend's options")
            try:
                validate_options(kind, table)
            except ConfigError as exc:
                raise ValueError(exc.message) from None
        return self


class WriteupConfig(Section):
    enabled: bool = True
    page_limit: int = Field(default=8, ge=1)
    compile_in: Literal["host", "sandbox"] = "host"
    fix_rounds: int = Field(default=3, ge=0, le=10)
    compile_timeout_s: float = Field(default=120, gt=0, le=MAX_TIMEOUT_S)
    two_column: bool = False
    max_figures: int = Field(
        default=3, ge=0, le=8, description="figures in the body; the rest are supplementary"
    )


class ReviewConfig(Section):
    enabled: bool = True
    ensemble: int = Field(default=3, ge=1, le=10)
    reflections: int = Field(
        default=1,
        ge=0,
        le=5,
        description="reflection rounds at most; each is sent only while checks find a problem",
    )
    accept_threshold: float = Field(default=6.0, ge=1, le=10)
    max_figures: int = Field(
        default=4,
        ge=0,
        le=8,
        description="the paper's figures shown to a reviewer that sees images",
    )


class CampaignConfig(Section):
    template: str = Field(description="pack name (shipped or in $SCIENTIST_PACKS) or a path")
    name: str | None = Field(default=None, description="default: <template>-<timestamp>")
    campaign_dir: Path | None = Field(default=None, description="default: campaigns/<name>")
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    budget_usd: float | None = Field(default=None, ge=0)
    max_ideas: int = Field(default=3, ge=1, le=1000)
    max_runs_per_idea: int = Field(default=2, ge=1, le=20)
    max_parallel: int = Field(
        default=1, ge=1, le=64, description="slots: ideas whose experiments run at once"
    )
    scheduling: Literal["continuous", "batch"] = Field(
        default="continuous",
        description="continuous: a freed slot starts the next idea at once, papers are "
        "written off the slots; batch: a batch of ideas starts only when the last one is "
        "written and reviewed (selection in lockstep, reproducible across timings)",
    )
    max_writing: int = Field(
        default=2, ge=1, le=64, description="ideas written up or reviewed at once (off the slots)"
    )
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    confirm_seeds: int = Field(
        default=3,
        ge=0,
        le=20,
        description="before the headline names the best idea, it and its control run again "
        "on this many fresh seeds (disjoint from `seeds`); 0 skips the confirmation",
    )
    smoke: bool = False
    baseline_paper: bool = Field(
        default=False,
        description="offline, on a pack with no knobs: the one idea is the unchanged pack, "
        "run again beside the baseline, written up and reviewed",
    )
    search: Literal["linear", "abmcts"] = "linear"
    search_budget: int = Field(default=6, ge=1, le=200, description="tree-search expansions")
    debug_attempts: int = Field(default=2, ge=0, le=10)
    plot_feedback: bool = Field(
        default=True,
        description="before the code model's next prompt, draw the last successful run's "
        "figures (one plot.py run) and tell it what they show",
    )
    literature: Literal["semantic_scholar", "off"] = Field(
        default="semantic_scholar",
        description="'off' (or SCIENTIST_LITERATURE=off): citations and novelty from cache only",
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    install_requirements: bool = Field(
        default=False,
        description="install the pack's requirements into a per-pack environment (local)",
    )
    writeup: WriteupConfig = Field(default_factory=WriteupConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds

    @model_validator(mode="after")
    def _search_has_models(self) -> CampaignConfig:
        if self.search == "abmcts" and is_offline(self.models.for_role("code")):
            raise ValueError(
                "search = 'abmcts' needs a model in the 'code' role: set models.code "
                "(several models make a multi-model search), or use search = 'linear'"
            )
        return self

    @model_validator(mode="after")
    def _install_is_local(self) -> CampaignConfig:
        if self.install_requirements and self.sandbox.kind != "local":
            raise ValueError(
                "install_requirements installs into a per-pack environment of the local "
                f"sandbox; for {self.sandbox.kind}, put the requirements into its image "
                "(scientist sandbox build --offline --pack PATH)"
            )
        return self


def describe_error(error: ValidationError, source: str) -> str:
    """A validation error as one line naming the field and the fix."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    extra = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    if not field:  # a rule across fields: its message says what to change
        return f"{source}: {message}{extra}"
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown field '{field}'{extra}: remove it or check its spelling"
    if first["type"] == "missing":
        return f"{source}: field '{field}' is required{extra}: set it in the file or by a flag"
    return f"{source}: field '{field}': {message}{extra}: fix the value"


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
        raise ConfigError(describe_error(exc, source)) from None


def sandbox_config(data: dict[str, Any], source: str = "sandbox") -> SandboxConfig:
    """A `SandboxConfig` from flags or a table; an invalid one is a ConfigError."""
    try:
        return SandboxConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc, source)) from None


def dump_config(config: CampaignConfig) -> str:
    """The resolved configuration as TOML (None values omitted)."""
    import tomli_w

    return tomli_w.dumps(config.model_dump(mode="json", exclude_none=True))
