"""Providers are found like sandbox backends: by an entry point naming a module that
registers the kind, imported only when a spec names it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scientist.config import ModelsConfig
from scientist.errors import ConfigError
from scientist.llm.factory import make_provider
from scientist.llm.pricing import unpriced_models
from scientist.llm.registry import known_kinds

PLUGIN = """
from scientist.llm.base import Reply
from scientist.llm.registry import register_provider


class EchoProvider:
    def __init__(self, name):
        self.model = f"echo:{name}"

    def send(self, messages, schema=None, **options):
        return Reply(text=messages[-1].content, input_tokens=1, output_tokens=1)


@register_provider("echo", paid=True)
def open_echo(name, config, capabilities):
    return EchoProvider(name)
"""


@pytest.fixture
def echo_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "echo_provider.py").write_text(PLUGIN)
    info = tmp_path / "echo_provider-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-provider\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[scientist.llm_providers]\necho = echo_provider\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "echo_provider", raising=False)


def test_the_shipped_providers_are_entry_points() -> None:
    assert {"openai", "anthropic", "local", "scripted"} <= set(known_kinds())


@pytest.mark.usefixtures("echo_plugin")
def test_an_installed_provider_is_loaded_when_a_spec_names_it() -> None:
    assert "echo" in known_kinds() and "echo_provider" not in sys.modules
    provider = make_provider("echo:loud", ModelsConfig())
    assert provider.model == "echo:loud"
    # a paid kind with no price is named before a campaign with a budget starts
    assert unpriced_models(ModelsConfig(default="echo:loud")) == ["echo:loud"]


def test_an_unknown_kind_is_one_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        make_provider("nosuch:model", ModelsConfig())
    assert "unknown model 'nosuch:model'" in caught.value.message
    assert "openai:<model>" in (caught.value.hint or "")
