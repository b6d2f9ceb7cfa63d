"""Pre-train the shared base, fine-tune specialists A and B from it; cache per seed."""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from mergepack.model import ModelConfig, TinyLM, loss_on
from mergepack.world import World

BASE_MIXTURE = {"add_l1": 0.4, "copy_l1": 0.2, "tr_21": 0.2, "copy_l2": 0.2}
SPECIALIST_TASKS = {"A": {"add_l1": 1.0}, "B": {"tr_12": 1.0}}
CACHE_VERSION = 1

StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    pretrain_steps: int = 800
    finetune_steps: int = 150
    batch_size: int = 64
    lr: float = 3e-3
    finetune_lr: float = 1e-3


def train(
    model: TinyLM,
    world: World,
    mixture: dict[str, float],
    steps: int,
    lr: float,
    batch_size: int,
    rng: random.Random,
    log: Callable[[str], None],
    name: str,
) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup)
    )
    model.train()
    for step in range(steps):
        batch = world.sample(mixture, batch_size, rng)
        loss = loss_on(model(batch.tokens), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % max(1, steps // 5) == 0 or step == steps - 1:
            log(f"  train {name} step {step + 1}/{steps} loss {loss.item():.3f}")
    model.eval()


def _cache_key(world: World, model_cfg: ModelConfig, train_cfg: TrainConfig, seed: int) -> str:
    payload = {
        "version": CACHE_VERSION,
        "digits": world.digits,
        "model": model_cfg.as_dict(),
        "train": asdict(train_cfg),
        "base": BASE_MIXTURE,
        "specialists": SPECIALIST_TASKS,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _clone(state: StateDict) -> StateDict:
    return {k: v.detach().clone() for k, v in state.items()}


def build_models(
    world: World,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    seed: int,
    cache_dir: Path | None,
    log: Callable[[str], None],
) -> dict[str, StateDict]:
    """State dicts of the base and of specialists A and B for `seed`, from cache if present."""
    path = (
        cache_dir / f"merge-{_cache_key(world, model_cfg, train_cfg, seed)}.pt"
        if cache_dir
        else None
    )
    if path is not None and path.is_file():
        log(f"seed {seed}: loaded base and specialists from {path}")
        return torch.load(path, weights_only=True)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = TinyLM(model_cfg)
    train(
        model,
        world,
        BASE_MIXTURE,
        train_cfg.pretrain_steps,
        train_cfg.lr,
        train_cfg.batch_size,
        rng,
        log,
        "base",
    )
    states = {"base": _clone(model.state_dict())}
    for name, mixture in SPECIALIST_TASKS.items():
        model.load_state_dict(states["base"])
        train(
            model,
            world,
            mixture,
            train_cfg.finetune_steps,
            train_cfg.finetune_lr,
            train_cfg.batch_size,
            rng,
            log,
            f"specialist {name}",
        )
        states[name] = _clone(model.state_dict())
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(states, partial)
        partial.replace(path)
    return states
