"""`scripted:<file>`: recorded answers replayed through the real openai client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.config import ModelsConfig
from scientist.errors import ConfigError, LLMProviderError
from scientist.llm import open_llm
from scientist.llm.replay_server import ReplayServer
from tests.llm.conftest import FAST_RETRY, Verdict


def write_script(path: Path, entries: list[dict]) -> str:
    path.write_text(json.dumps(entries))
    return f"scripted:{path}"


def ask(llm, text: str, **kwargs):
    return llm.complete("review", [{"role": "user", "content": text}], **kwargs)


def test_matched_entries_answer_out_of_order_and_plain_ones_in_order(tmp_path, campaign):
    spec = write_script(
        tmp_path / "script.json",
        [
            {"text": "first plain"},
            {"json": {"label": "reflected", "score": 9}, "match": r"Reflect(ion)? round \d"},
            {"text": "second plain"},
        ],
    )
    with open_llm(ModelsConfig(default=spec), campaign=campaign, retry=FAST_RETRY) as llm:
        reflected = ask(llm, "Reflect round 2 on the idea", schema=Verdict)
        assert reflected.parsed == Verdict(label="reflected", score=9)
        assert ask(llm, "anything").text == "first plain"
        assert ask(llm, "Reflect round 3").text == "second plain"  # the matcher is used up
        with pytest.raises(LLMProviderError, match="replay script exhausted"):
            ask(llm, "one more")
    ledger = campaign.ledger()
    assert [entry.ok for entry in ledger] == [True, True, True, False]
    assert all(entry.model == spec for entry in ledger)
    assert all(entry.usage.priced is False for entry in ledger if entry.ok)
    assert ledger[0].usage.input_tokens > 0


def test_scripted_errors_go_through_the_retry_loop(tmp_path):
    spec = write_script(
        tmp_path / "script.json",
        [{"status": 503, "headers": {"retry-after": "0"}}, {"text": "recovered"}],
    )
    with open_llm(ModelsConfig(default=spec), retry=FAST_RETRY) as llm:
        assert ask(llm, "hello").text == "recovered"


def test_invalid_or_missing_script_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        open_llm(ModelsConfig(default=f"scripted:{tmp_path / 'absent.json'}"))
    bad = write_script(tmp_path / "bad.json", [{"text": "a", "json": {"b": 1}}])
    with pytest.raises(ConfigError, match="not a valid script"):
        open_llm(ModelsConfig(default=bad))


def test_a_replay_server_that_never_started_closes_at_once() -> None:
    server = ReplayServer([{"text": "unused"}])
    server.close()
    assert server._httpd.socket.fileno() == -1
