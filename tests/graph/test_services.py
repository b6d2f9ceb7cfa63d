"""A command opens each of the campaign's services once: the sandbox, the model router."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist import backends
from scientist.campaign import Campaign
from scientist.cli import app
from scientist.llm.router import LLM
from scientist.sandbox import register_backend
from scientist.sandbox.local import LocalSandbox


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str | None]]:
    """Registers the `counting` sandbox kind (the local backend, each opening recorded) and
    records every model router built."""
    monkeypatch.setattr(backends, "_BACKENDS", dict(backends._BACKENDS))
    record: dict[str, list[str | None]] = {"sandbox": [], "router": []}

    @register_backend("counting")
    def _counting(config: object, campaign: str | None) -> LocalSandbox:
        record["sandbox"].append(campaign)
        return LocalSandbox(campaign=campaign)

    build = LLM.__init__

    def counted(self: LLM, *args: object, **kwargs: object) -> None:
        record["router"].append(None)
        build(self, *args, **kwargs)

    monkeypatch.setattr(LLM, "__init__", counted)
    return record


@pytest.mark.slow
def test_run_and_resume_open_the_sandbox_and_the_models_once_each(
    tmp_path: Path, toy_pack: Path, run_cache: Path, opened: dict[str, list[str | None]]
) -> None:
    config = tmp_path / "campaign.toml"
    config.write_text(
        '[sandbox]\nkind = "counting"\n[writeup]\nenabled = false\n[review]\nenabled = false\n'
    )
    root = tmp_path / "c"
    run = ["run", "--template", str(toy_pack), "--llm", "none", "--ideas", "2", "--smoke"]
    app([*run, "--campaign", str(root), "--config", str(config)], standalone_mode=False)
    assert opened == {"sandbox": ["c"], "router": [None]}
    entries = Campaign.open(root).archive()
    assert len(entries) == 2 and all(entry.status == "done" for entry in entries)

    (root / "STOP").touch()
    app(["resume", str(root), "--quiet"], standalone_mode=False)
    assert opened == {"sandbox": ["c", "c"], "router": [None, None]}
