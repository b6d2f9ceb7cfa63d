"""`scientist sandbox ...` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scientist.cli import app
from scientist.errors import ConfigError
from scientist.sandbox.cli import backend_availability

runner = CliRunner()


def test_exec_reports_a_timeout_as_json_and_fails() -> None:
    args = ["sandbox", "exec", "--timeout", "1", "--json", "--", "python", "-c", "while 1: pass"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "timeout"


def test_exec_runs_in_a_copy_of_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text("print('hello from', __file__)")
    args = ["sandbox", "exec", "--workspace", str(tmp_path), "--", "python", "hello.py"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout
    assert "hello from" in result.stdout


def test_exec_rejects_an_unknown_backend() -> None:
    result = runner.invoke(app, ["sandbox", "exec", "--backend", "vm", "--", "true"])
    assert isinstance(result.exception, ConfigError)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--timeout", "0"),
        ("--memory-mb", "-5"),
        ("--disk-mb", "0"),
        ("--cpus", "0"),
        ("--timeout", "inf"),
        ("--cpus", "100000"),
        ("--disk-mb", "100000000000000"),
        ("--memory-mb", "100000000000000"),
    ],
)
def test_exec_rejects_a_limit_out_of_range(flag: str, value: str) -> None:
    result = runner.invoke(app, ["sandbox", "exec", flag, value, "--", "true"])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith(f"{flag} {value}")
    assert "\n" not in str(result.exception)


def test_exec_rejects_a_missing_workspace(tmp_path: Path) -> None:
    args = ["sandbox", "exec", "--workspace", str(tmp_path / "nope"), "--", "true"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--workspace" in result.output


def test_build_needs_the_offline_flag() -> None:
    result = runner.invoke(app, ["sandbox", "build"])
    assert isinstance(result.exception, ConfigError)
    assert "--offline" in (result.exception.hint or "")


def test_check_explains_a_missing_docker_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    availability = backend_availability("docker")
    assert not availability.ok
    assert "cannot reach the Docker engine" in availability.reason
    assert "dockerd" in (availability.hint or "")
    assert backend_availability("local").ok


def test_check_says_what_each_backend_enforces_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setattr("scientist.sandbox.cli.known_kinds", lambda: ["local", "docker"])
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["sandbox", "check"])
    assert result.exit_code == 0, result.output
    assert "what each backend enforces on this host" in result.stdout
    local = backend_availability("local")
    for guarantee in local.guarantees:
        assert guarantee.name in result.stdout
    assert ("NOT enforced" in result.stdout) == any(not g.enforced for g in local.guarantees)


def test_check_prints_a_fix_with_brackets_as_written(monkeypatch) -> None:
    from scientist.sandbox import cli as sandbox_cli
    from scientist.sandbox.base import Availability

    missing = Availability(ok=False, reason="no module [x]", hint="pip install 'scientist[ray]'")
    monkeypatch.setattr(sandbox_cli, "backend_availability", lambda kind: missing)
    result = CliRunner().invoke(app, ["sandbox", "check"], env={"COLUMNS": "200"})
    assert "pip install 'scientist[ray]'" in result.stdout and "no module [x]" in result.stdout
