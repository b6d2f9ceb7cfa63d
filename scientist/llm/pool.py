"""The model pool: which of a role's models answers, by Thompson sampling.

Each (role, model) keeps a Beta(1 + wins, 1 + losses) posterior; a call draws one sample
per model and the highest draw answers. `reward(call_id, success)` updates the posterior
of the model that made the call. A call whose output never validates (`LLMFormatError`)
counts as a loss; an outage or a refused request (`LLMProviderError`) is no fault of the
model and leaves its posterior as it was.
The state lives in `pool.json` in the campaign directory (atomic writes), so a resumed
campaign keeps what it learned.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter

from scientist.atomic_files import atomic_write_json
from scientist.campaign import read_json

PENDING_LIMIT = 10_000  # call ids remembered for a later reward


class ModelStats(BaseModel):
    """One (role, model) arm, as shown by `scientist status`."""

    model_config = ConfigDict(extra="forbid")

    role: str
    model: str
    calls: int = 0
    wins: int = 0
    losses: int = 0
    cost_usd: float = 0.0

    @property
    def win_rate(self) -> float:
        """The posterior mean, (1 + wins) / (2 + wins + losses)."""
        return (1 + self.wins) / (2 + self.wins + self.losses)


STATS = TypeAdapter(list[ModelStats])


def read_pool(path: Path) -> list[ModelStats]:
    """The statistics in `pool.json` (none when there is no file); a broken file is a
    CampaignError saying how to start afresh."""
    if not path.exists():
        return []
    return read_json(STATS, path, hint="remove it to start the model pool's statistics afresh")


class ModelPool:
    def __init__(self, path: Path | None = None, *, seed: int | None = None) -> None:
        self.path = path
        self._rng = random.Random(seed)
        self._arms: dict[tuple[str, str], ModelStats] = {}
        self._pending: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        for arm in read_pool(path) if path is not None else []:
            self._arms[(arm.role, arm.model)] = arm

    def _arm(self, role: str, model: str) -> ModelStats:
        return self._arms.setdefault((role, model), ModelStats(role=role, model=model))

    def choose(self, role: str, models: list[str]) -> str:
        """The model that answers this call (the only one when the list has one)."""
        if len(models) == 1:
            return models[0]
        with self._lock:
            draws = {}
            for model in models:
                arm = self._arm(role, model)
                draws[model] = self._rng.betavariate(1 + arm.wins, 1 + arm.losses)
        return max(models, key=draws.__getitem__)

    def record_call(self, call_id: str, role: str, model: str, cost_usd: float) -> None:
        with self._lock:
            arm = self._arm(role, model)
            arm.calls += 1
            arm.cost_usd += cost_usd
            self._pending[call_id] = (role, model)
            while len(self._pending) > PENDING_LIMIT:
                self._pending.pop(next(iter(self._pending)))
            self._save()

    def reward(self, call_id: str, success: bool) -> bool:
        """Credit the call's model; False when the call id is unknown (or already rewarded)."""
        with self._lock:
            key = self._pending.pop(call_id, None)
            if key is None:
                return False
            self._record_outcome(key, success)
            self._save()
            return True

    def reward_model(self, role: str, model: str, success: bool) -> None:
        """Credit a (role, model) directly: for a call that is no longer pending."""
        with self._lock:
            self._record_outcome((role, model), success)
            self._save()

    def record_failure(self, role: str, model: str, cost_usd: float) -> None:
        with self._lock:
            arm = self._arm(role, model)
            arm.calls += 1
            arm.cost_usd += cost_usd
            self._record_outcome((role, model), False)
            self._save()

    def _record_outcome(self, key: tuple[str, str], success: bool) -> None:
        arm = self._arm(*key)
        if success:
            arm.wins += 1
        else:
            arm.losses += 1

    def stats(self) -> list[ModelStats]:
        with self._lock:
            return [arm.model_copy() for arm in self._arms.values()]

    def _save(self) -> None:
        if self.path is not None:
            atomic_write_json(self.path, [arm.model_dump() for arm in self._arms.values()])
