"""Experiment packs: loading and validating a pack (its manifest's schema is `manifest`)."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from scientist.ai_scientist import (
    OUT_DIR_FLAG,
    PLOT_ARGV,
    RUN_WITH_FLAGS,
    seed_idea,
)
from scientist.errors import TemplateError
from scientist.manifest import Metric, TemplateManifest
from scientist.models import FinalInfo, Idea
from scientist.resources import package_folder
from scientist.safe_tree import read_bytes, walk_files
from scientist.sanity import degenerate_reason

TEMPLATES_ROOT = package_folder("packs")
PACKS_ENV = "SCIENTIST_PACKS"


class Template(BaseModel):
    """A loaded pack: its directory and validated manifest."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    manifest: TemplateManifest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def metric(self) -> Metric:
        return self.manifest.metric

    @property
    def deterministic(self) -> bool:
        return self.manifest.seeding == "deterministic"

    def run_seeds(self, seeds: list[int]) -> list[int]:
        """The seeds a run uses: the campaign's, or only the first for a deterministic pack."""
        return seeds[:1] if self.deterministic else list(seeds)

    def seed_ideas(self) -> list[Idea]:
        """The pack's `seed_ideas.json`, validated; an absent file means no seeds."""
        path = self.root / "seed_ideas.json"
        if not path.is_file():
            return []
        try:
            rows = json.loads(pack_text(self.root, "seed_ideas.json"))
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise TemplateError(f"{path}: expected a list of ideas")
        ideas = []
        for index, row in enumerate(rows):
            try:
                if self.manifest.ai_scientist is not None:
                    idea = seed_idea(row)
                else:
                    idea = Idea.model_validate({"origin": "seed", **row})
            except ValidationError as exc:
                raise TemplateError(f"{path}: idea {index}: {_first_error(exc)}") from None
            ideas.append(idea)
        return ideas

    def seed_ideas_repeating_baseline(self, baseline_config: dict[str, Any]) -> list[str]:
        """Seed ideas whose run would repeat the baseline run_0, by name.

        An idea's run is the pack's defaults plus the idea's overrides; run_0 is the defaults
        plus `[baseline]`. They coincide when the idea sets every `[baseline]` knob to the
        baseline's value and every other knob it sets to the value the baseline resolved to
        (`baseline_config`, the `config` of the baseline's final_info.json). An idea that sets
        no knob is a code change (it needs a code model), not a repeat.
        """
        resolved = {**baseline_config, **self.manifest.baseline}
        return [
            idea.name
            for idea in self.seed_ideas()
            if idea.overrides
            and set(self.manifest.baseline) <= set(idea.overrides)
            and all(k in resolved and resolved[k] == v for k, v in idea.overrides.items())
        ]

    def content_hash(self) -> str:
        """A digest of every file in the pack: equal hashes mean an identical pack."""
        digest = hashlib.sha256()
        for relative in walk_files(self.root, skip=["__pycache__"]):
            digest.update(str(relative).encode())
            digest.update(read_bytes(self.root, relative))
        return digest.hexdigest()[:16]

    def run_argv(self, out_dir: str, overrides_file: str | None, *, smoke: bool) -> list[str]:
        """The command a run executes in its code directory (an AI Scientist template takes
        no overrides file: its knobs, if any, become its own flags)."""
        manifest = self.manifest
        v1 = manifest.ai_scientist
        if v1 is not None and v1.flags and overrides_file:
            flags = json.dumps(v1.flags, sort_keys=True)
            argv = ["python", "-c", RUN_WITH_FLAGS, manifest.entrypoint, out_dir]
            argv += [overrides_file, flags]
        elif v1 is not None:
            argv = ["python", manifest.entrypoint, f"{OUT_DIR_FLAG}={out_dir}"]
        else:
            argv = ["python", manifest.entrypoint, "--out-dir", out_dir]
            argv += ["--config", overrides_file] if overrides_file else []
        return argv + (manifest.smoke_args if smoke else [])

    def v1_config(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """The knobs a run of an AI Scientist template used (its final_info.json names none):
        the pack's baseline with the run's overrides of its knobs."""
        knobs = {k: v for k, v in overrides.items() if k in self.manifest.search_space}
        return {**self.manifest.baseline, **knobs}

    @property
    def plot_runs_folder(self) -> str:
        """Where the figures step puts copies of the runs, relative to the pack's copy."""
        return "." if self.manifest.ai_scientist is not None else "runs"

    def grade_argv(self, run_dir: str, overrides_file: str, *, smoke: bool) -> list[str]:
        """The grader's command over the run outputs in `run_dir` (a pack with a grader)."""
        grader = self.manifest.grader
        if grader is None:
            raise TemplateError(f"pack '{self.name}' has no [grader]")
        argv = [*grader.command, "--run-dir", run_dir, "--config", overrides_file]
        return argv + ["--out-dir", "out"] + (self.manifest.smoke_args if smoke else [])

    @property
    def protected(self) -> list[str]:
        """Patterns of the files the code model may not edit: `[agent] protected`, and the
        grader's own files (the pack files its command names)."""
        grader = self.manifest.grader
        named = [arg for arg in (grader.command if grader else []) if (self.root / arg).is_file()]
        return [*self.manifest.agent.protected, *named]

    def plot_argv(self, run_dirs: list[str]) -> list[str]:
        """The command drawing the figures of `run_dirs` into `out/`."""
        if self.manifest.ai_scientist is not None:
            return PLOT_ARGV
        return ["python", self.manifest.plot, "--runs", *run_dirs, "--out-dir", "out"]

    def read_final_info(self, path: Path, *, measured_s: float = 0.0) -> FinalInfo:
        """Validate a run's `final_info.json`: FinalInfo, with the pack's metric present and
        finite, and every metric inside the pack's sanity bounds.

        `measured_s` (the sandbox's wall time) stands in for a runtime the file lacks."""
        if not path.is_file():
            raise TemplateError(f"{path} was not written by {self.manifest.entrypoint}")
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            if self.manifest.ai_scientist is not None:
                info = self.manifest.ai_scientist.final_info(json.loads(text), measured_s)
            else:
                info = FinalInfo.model_validate_json(text)
        except ValidationError as exc:
            raise TemplateError(f"{path}: {_first_error(exc)}") from None
        except ValueError as exc:
            raise TemplateError(f"{path}: {exc}") from None
        if self.metric.name not in info.metrics:
            raise TemplateError(
                f"{path}: metric '{self.metric.name}' (from template.toml) is missing",
                hint=f"metrics present: {', '.join(sorted(info.metrics))}",
            )
        reason = degenerate_reason(info, self.metric.name, self.manifest.sanity)
        if reason is not None:
            raise TemplateError(f"{path}: {reason}")
        return info


def pack_text(root: Path, name: str) -> str:
    """A pack's own text file, read without following a link; TemplateError when it is a link,
    unreadable, or not UTF-8."""
    try:
        return read_bytes(root, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(
            f"{root / name} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            hint="save it as UTF-8",
        ) from None
    except OSError as exc:
        raise TemplateError(f"cannot read {root / name}: {exc.strerror or exc}") from None


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"field '{field}': {first['msg']}"


def pack_folders() -> list[Path]:
    """Where packs are found by name: each folder in $SCIENTIST_PACKS (separated by the OS
    path separator), in order, then the packs shipped with scientist."""
    configured = os.environ.get(PACKS_ENV, "")
    folders = [Path(entry).expanduser() for entry in configured.split(os.pathsep) if entry]
    for folder in folders:
        if not folder.is_dir():
            raise TemplateError(
                f"{PACKS_ENV} names {folder}, which is not a directory",
                hint=f"create it or remove it from {PACKS_ENV}",
            )
    if not TEMPLATES_ROOT.is_dir():
        raise TemplateError(
            f"the packs shipped with scientist are missing ({TEMPLATES_ROOT})",
            hint="reinstall scientist: pip install --force-reinstall scientist",
        )
    return [*folders, TEMPLATES_ROOT]


def _packs_in(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if (p / "template.toml").is_file()]


def list_templates() -> list[Template]:
    """Every pack found by name (a user folder's pack hides a shipped one of the same name);
    a broken pack raises with its file and field."""
    found: dict[str, Path] = {}
    for folder in pack_folders():
        for pack in _packs_in(folder):
            found.setdefault(pack.name, pack)
    return [load_template(str(path)) for path in found.values()]


def resolve_template_dir(name_or_path: str) -> Path:
    """A pack directory from a path, else by name from `pack_folders()`."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        return candidate.resolve()
    folders = pack_folders()
    for folder in folders:
        if (folder / name_or_path).is_dir():
            return (folder / name_or_path).resolve()
    known = ", ".join(sorted({p.name for f in folders for p in _packs_in(f)})) or "none"
    raise TemplateError(
        f"no experiment pack '{name_or_path}'",
        hint=f"known packs: {known}; or give a pack's path, or add its folder to {PACKS_ENV}",
    )


def load_template(name_or_path: str) -> Template:
    root = resolve_template_dir(name_or_path)
    manifest_path = root / "template.toml"
    if not manifest_path.is_file():
        raise TemplateError(f"{root} has no template.toml")
    try:
        data = tomllib.loads(pack_text(root, "template.toml"))
        manifest = TemplateManifest.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{manifest_path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise TemplateError(f"{manifest_path}: {_first_error(exc)}") from None
    for script in (manifest.entrypoint, manifest.plot):
        if not (root / script).is_file():
            raise TemplateError(f"{manifest_path}: '{script}' does not exist in {root}")
    return Template(root=root, manifest=manifest)
