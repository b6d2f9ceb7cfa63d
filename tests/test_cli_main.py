import subprocess
import sys
from pathlib import Path

from scientist import __version__
from scientist.authoring.cli import duration


def scientist(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scientist", *args], capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    result = scientist("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"scientist {__version__}"


def test_config_show_resolves_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('template = "merge"\nmax_ideas = 7\n')
    result = scientist("config", "show", str(path), "--template", "namm")
    assert result.returncode == 0, result.stderr
    assert 'template = "namm"' in result.stdout
    assert "max_ideas = 7" in result.stdout


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('template = "merge"\nbudget_usd = -1\n')
    result = scientist("config", "show", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "budget_usd" in lines[0]


def test_a_short_smoke_run_is_timed_in_milliseconds_never_zero_seconds() -> None:
    assert [duration(s) for s in (0.032, 0.1, 12.34)] == ["32 ms", "0.1 s", "12.3 s"]
