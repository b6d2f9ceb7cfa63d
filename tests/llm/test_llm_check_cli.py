"""`scientist llm check` against the replay server, and as a real process for exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from scientist.errors import ConfigError
from scientist.llm.cli import llm_app

KEYS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")


def scientist(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in KEYS}
    return subprocess.run(
        [sys.executable, "-m", "scientist", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def check(*args: str):
    return CliRunner().invoke(llm_app, ["check", *args])


def test_check_prints_answer_latency_tokens_and_cost(replay_server):
    replay_server.load([{"text": "ok", "usage": {"input_tokens": 12, "output_tokens": 1}}])
    result = check("openai:gpt-4o", "--base-url", f"{replay_server.url}/v1")
    assert result.exit_code == 0, result.output
    assert "model:   openai:gpt-4o" in result.stdout
    assert "answer:  ok" in result.stdout
    assert "tokens:  12 in, 1 out" in result.stdout
    assert "latency: " in result.stdout and "cost:    $0.000040" in result.stdout
    assert replay_server.requests[0]["body"]["max_tokens"] == 16


def test_check_unpriced_model_says_so(replay_server):
    replay_server.load([{"text": "ok"}])
    result = check("openai:my-vllm", "--base-url", f"{replay_server.url}/v1")
    assert result.exit_code == 0, result.output
    assert "unpriced" in result.stdout


def test_missing_key_is_one_line_naming_the_variable_and_exit_2():
    result = scientist("llm", "check", "openai:gpt-4o")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "OPENAI_API_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_model_kind_is_a_config_error():
    result = check("gpt-4o")
    assert isinstance(result.exception, ConfigError)
    assert "unknown model 'gpt-4o'" in str(result.exception)


def test_check_of_none_says_there_is_no_model():
    result = CliRunner().invoke(llm_app, ["check", "none"])
    assert isinstance(result.exception, ConfigError)
    assert "nothing to check" in str(result.exception)
