"""A campaign's own files damaged on disk: every command answers with one error line (and a
hint saying what to do) and exit code 2, never a traceback; a journal that lost paid calls
makes resume refuse until told to pay for them again."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scientist.cli import main
from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign

PAID_CALL = {
    "call_id": "c1",
    "role": "ideas",
    "model": "openai:gpt-4o",
    "usage": {"input_tokens": 1000, "output_tokens": 500, "cost_usd": 0.25},
    "latency_s": 1.0,
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished offline campaign of one idea on the toy pack."""
    root = tmp_path_factory.mktemp("finished") / "campaign"
    cache = tmp_path_factory.mktemp("cache")
    cache.chmod(0o777)
    pack = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCIENTIST_CACHE", str(cache))
        config = CampaignConfig(
            template=str(pack),
            campaign_dir=root,
            seeds=[0],
            max_ideas=1,
            writeup={"enabled": False},
        )
        start_campaign(config, quiet=True)
    return root


def _append(name: str, data: bytes) -> Callable[[Path], None]:
    def corrupt(root: Path) -> None:
        with (root / name).open("ab") as handle:
            handle.write(data)

    return corrupt


def _replace(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: (root / name).write_bytes(data)


def _paid_ledger_then(corrupt: Callable[[Path], None]) -> Callable[[Path], None]:
    def both(root: Path) -> None:
        (root / "ledger.jsonl").write_text(json.dumps(PAID_CALL) + "\n")
        corrupt(root)

    return both


CORRUPTIONS = {
    "checkpoint emptied": (_replace("checkpoints.sqlite", b""), ["resume"]),
    "checkpoint deleted": (lambda root: (root / "checkpoints.sqlite").unlink(), ["resume"]),
    "checkpoint garbage": (
        _replace("checkpoints.sqlite", b"\x07garbage" * 600),
        ["status", "resume"],
    ),
    "checkpoint truncated": (
        lambda root: (root / "checkpoints.sqlite").write_bytes(
            (root / "checkpoints.sqlite").read_bytes()[:3000]
        ),
        ["status", "resume"],
    ),
    "archive not utf-8": (_append("archive.jsonl", b"\xff\xfe\n"), ["status", "ideas", "view"]),
    "ledger not utf-8": (
        _paid_ledger_then(_append("ledger.jsonl", b"\xff\xfe\n")),
        ["status", "resume", "view"],
    ),
    "journal not utf-8": (_append("journal.jsonl", b"\xff\xfe\n"), ["resume"]),
    "journal row of the wrong shape": (
        _append("journal.jsonl", b'{"event": "sent"}\n'),
        ["resume"],
    ),
    "journal row not an object": (_append("journal.jsonl", b"[1, 2]\n"), ["resume"]),
    "pool garbage": (_replace("pool.json", b"garbage{"), ["status", "resume", "view"]),
    "pool not utf-8": (_replace("pool.json", b"\xff"), ["status", "resume", "view"]),
}


def scientist(root: Path, command: str, *options: str) -> tuple[int, str]:
    """Run `scientist COMMAND ROOT` in this process through the real entry point."""
    argv = ["scientist", command, str(root), *options]
    if command == "view":
        argv += ["--out", str(root.parent / "site")]
    if command == "resume":
        argv += ["--quiet"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", argv)
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0), ""
    return 0, ""


@pytest.mark.parametrize("damage", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_a_damaged_campaign_file_is_one_line_and_exit_2(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    root = tmp_path / "campaign"
    shutil.copytree(finished, root)
    corrupt, commands = CORRUPTIONS[damage]
    corrupt(root)
    for command in commands:
        code, _ = scientist(root, command)
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, f"{command}: exit {code}\n{err}"
        assert "Traceback" not in err
        assert lines[0].startswith("error: ") and lines[1].startswith("  hint: ")
        assert str(root) in lines[0] and len(lines) == 2


def test_a_journal_that_lost_paid_calls_makes_resume_ask_for_repay(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "campaign"
    shutil.copytree(finished, root)
    (root / "ledger.jsonl").write_text(json.dumps(PAID_CALL) + "\n")
    (root / "journal.jsonl").unlink(missing_ok=True)
    code, _ = scientist(root, "resume")
    err = capsys.readouterr().err
    assert code == 2
    assert "is missing 1 of the model calls the ledger lists ($0.2500)" in err
    assert f"scientist resume {root} --repay" in err
    code, _ = scientist(root, "resume", "--repay")
    assert code == 0, capsys.readouterr().err
    code, _ = scientist(root, "resume")
    assert code == 0, capsys.readouterr().err
