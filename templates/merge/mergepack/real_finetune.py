"""Specialists of the real-model study: a full fine-tune of the base on one skill, cached.

A specialist is trained on the skill's train word lists only (AdamW, loss on the answer tokens)
and saved with `save_pretrained` under a cache folder named by a digest of its recipe (the
base's folder and weights file, the skill, the world and the training knobs), so a second study
loads it in a fraction of a second. Training is deterministic given the recipe's seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from mergepack.real_tasks import SkillWorld, answer_scores, encode

RECIPE_KEYS = ("real_seed", "words_per_item", "dev_size", "test_size", "real_finetune_steps")
RECIPE_KEYS += ("real_batch_size", "real_lr")


def recipe_digest(base: Path, skill: str, cfg: dict[str, Any]) -> str:
    weights = sorted(base.glob("*.safetensors")) + sorted(base.glob("*.bin"))
    stamp = [(w.name, w.stat().st_size, w.stat().st_mtime_ns) for w in weights]
    recipe = {"base": str(base.resolve()), "weights": stamp, "skill": skill}
    recipe.update({key: cfg[key] for key in RECIPE_KEYS})
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def train_specialist(
    model: torch.nn.Module,
    tokenizer,
    world: SkillWorld,
    skill: str,
    cfg: dict[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Fine-tune `model` in place on `skill`; returns the held-out gain and the step cost."""
    train = world.items(skill, "train")
    rng = random.Random(cfg["real_seed"] * 1000 + len(skill))
    torch.manual_seed(cfg["real_seed"])
    test = encode(tokenizer, world.items(skill, "test"))
    before = answer_scores(model.eval(), test)[0].float().mean().item()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["real_lr"], weight_decay=0.0)
    model.train()
    started = time.time()
    for step in range(cfg["real_finetune_steps"]):
        batch = encode(tokenizer, rng.sample(train, cfg["real_batch_size"]))
        ids, mask, answers = (tensor.to(model.device) for tensor in batch)
        labels = ids.masked_fill(answers == 0, -100)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (step + 1) % 25 == 0:
            log(f"  {skill} step {step + 1}: loss {loss.item():.3f}")
    seconds = time.time() - started
    after = answer_scores(model.eval(), test)[0].float().mean().item()
    log(f"  {skill} specialist: held-out exact match {before:.3f} -> {after:.3f}")
    steps = max(1, cfg["real_finetune_steps"])
    return {"before": before, "after": after, "seconds": seconds, "s_per_step": seconds / steps}


def specialist(
    base: Path,
    tokenizer,
    world: SkillWorld,
    skill: str,
    cfg: dict[str, Any],
    cache: Path,
    log: Callable[[str], None],
    device: str = "cpu",
) -> tuple[Path, dict[str, Any]]:
    """The cached specialist's folder and its training report (fine-tuned on `device` on
    first use)."""
    from transformers import AutoModelForCausalLM

    folder = cache / f"specialist-{skill}-{recipe_digest(base, skill, cfg)}"
    report = folder / "specialist.json"
    if report.is_file():
        return folder, json.loads(report.read_text())
    log(f"fine-tuning the {skill} specialist ({cfg['real_finetune_steps']} steps)")
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).to(device)
    summary = train_specialist(model, tokenizer, world, skill, cfg, log)
    partial = folder.with_name(folder.name + ".partial")
    model.save_pretrained(partial)
    (partial / "specialist.json").write_text(json.dumps(summary, indent=2))
    partial.replace(folder)
    return folder, summary
