"""The recall world: multi-query associative recall and a tiny decoder-only transformer.

A prompt is `context` tokens of distractors with `n_pairs` (key, value) pairs scattered in
it, then a separator and every key again in a new order; at each query key the model must
name that key's value. A "token shift" input (each position also sees the previous token's
embedding) lets one attention layer solve it, so what the cache keeps decides the answer.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

SEP = 0


@dataclass(frozen=True)
class WorldSpec:
    context: int = 128
    n_pairs: int = 8
    n_keys: int = 32
    n_values: int = 16
    n_fillers: int = 32

    @property
    def vocab(self) -> int:
        return 1 + self.n_keys + self.n_values + self.n_fillers

    @property
    def length(self) -> int:
        return self.context + 1 + self.n_pairs


@dataclass
class Batch:
    tokens: torch.Tensor  # (B, length) int64
    pair_positions: torch.Tensor  # (B, n_pairs, 2): context positions of (key, value)
    query_positions: torch.Tensor  # (n_pairs,): positions whose next-token is an answer
    answers: torch.Tensor  # (B, n_pairs) value token for each query


def make_batch(spec: WorldSpec, size: int, generator: torch.Generator) -> Batch:
    """`size` prompts; distractors mix filler and value tokens, keys appear only in pairs."""
    key0, value0, filler0 = 1, 1 + spec.n_keys, 1 + spec.n_keys + spec.n_values
    n_slots = spec.context // 2
    if spec.n_pairs > n_slots or spec.n_pairs > spec.n_keys:
        raise ValueError("context too short or too few keys for n_pairs")
    distractor_pool = torch.cat(
        [torch.arange(filler0, spec.vocab), torch.arange(value0, value0 + spec.n_values)]
    )
    pick = torch.randint(len(distractor_pool), (size, spec.context), generator=generator)
    tokens = torch.empty(size, spec.length, dtype=torch.long)
    tokens[:, : spec.context] = distractor_pool[pick]
    tokens[:, spec.context] = SEP
    keys = torch.argsort(torch.rand(size, spec.n_keys, generator=generator), dim=1)[
        :, : spec.n_pairs
    ]
    keys = keys + key0
    values = torch.randint(spec.n_values, (size, spec.n_pairs), generator=generator) + value0
    slots = torch.argsort(torch.rand(size, n_slots, generator=generator), dim=1)[:, : spec.n_pairs]
    key_pos = slots * 2
    rows = torch.arange(size).unsqueeze(1)
    tokens[rows, key_pos] = keys
    tokens[rows, key_pos + 1] = values
    order = torch.argsort(torch.rand(size, spec.n_pairs, generator=generator), dim=1)
    query_start = spec.context + 1
    tokens[:, query_start:] = torch.gather(keys, 1, order)
    return Batch(
        tokens=tokens,
        pair_positions=torch.stack([key_pos, key_pos + 1], dim=-1),
        query_positions=torch.arange(query_start, spec.length),
        answers=torch.gather(values, 1, order),
    )


@dataclass(frozen=True)
class ModelSpec:
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    qk_norm: bool = True


class Block(nn.Module):
    """Pre-norm attention + MLP. With `qk_norm`, queries are RMS-normalised with a learned
    gain and keys are RMS-normalised with none, so every key has the same L2 norm."""

    def __init__(self, d_model: int, n_heads: int, qk_norm: bool = True) -> None:
        super().__init__()
        self.n_heads = n_heads
        d_head = d_model // n_heads
        self.q_norm = nn.RMSNorm(d_head) if qk_norm else None
        self.k_norm = nn.RMSNorm(d_head) if qk_norm else None
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys, values as (B, H, T, d_head)."""
        b, t, d = x.shape
        qkv = self.qkv(self.ln1(x)).view(b, t, 3, self.n_heads, d // self.n_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        if self.q_norm is not None and self.k_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        return q, k, v

    def finish(self, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        b, _, t, _ = attended.shape
        x = x + self.proj(attended.transpose(1, 2).reshape(b, t, -1))
        return x + self.mlp(self.ln2(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.heads(x)
        return self.finish(x, F.scaled_dot_product_attention(q, k, v, is_causal=True))


class RecallLM(nn.Module):
    """Decoder-only transformer with a token-shift input and no positional embedding."""

    def __init__(self, vocab: int, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.embed = nn.Embedding(vocab, spec.d_model)
        self.shift_embed = nn.Embedding(vocab, spec.d_model)
        self.blocks = nn.ModuleList(
            Block(spec.d_model, spec.n_heads, spec.qk_norm) for _ in range(spec.n_layers)
        )
        self.ln_f = nn.LayerNorm(spec.d_model)
        self.head = nn.Linear(spec.d_model, vocab)

    def embed_tokens(self, tokens: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """`previous` is the token before tokens[:, 0] (SEP at the start of a prompt)."""
        shifted = torch.cat([previous.unsqueeze(1), tokens[:, :-1]], dim=1)
        return self.embed(tokens) + self.shift_embed(shifted)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln_f(x))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed_tokens(tokens, torch.full_like(tokens[:, 0], SEP))
        for block in self.blocks:
            x = block(x)
        return self.logits(x)


def query_accuracy(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Per-prompt fraction of queries answered right; logits cover the query positions."""
    return (logits.argmax(-1) == batch.answers).float().mean(dim=1)


@dataclass(frozen=True)
class TrainSpec:
    steps: int = 400
    batch_size: int = 32
    lr: float = 5e-3
    curriculum_start: int = 32


def train_model(world: WorldSpec, model_spec: ModelSpec, train: TrainSpec, seed: int) -> RecallLM:
    """Half the steps on short prompts, then grow to the full context; then freeze."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = RecallLM(world.vocab, model_spec)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=train.lr, total_steps=train.steps, pct_start=0.1
    )
    start = min(train.curriculum_start, world.context)
    for step in range(train.steps):
        grow = min(1.0, max(0.0, step / train.steps - 0.5) / 0.3)
        context = int(start + grow * (world.context - start)) // 2 * 2
        stage = WorldSpec(context, world.n_pairs, world.n_keys, world.n_values, world.n_fillers)
        batch = make_batch(stage, train.batch_size, generator)
        logits = model(batch.tokens)[:, batch.query_positions]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch.answers.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % max(1, train.steps // 5) == 0 or step == train.steps - 1:
            print(f"  train step {step:4d} context {context:3d} loss {loss.item():.3f}", flush=True)
    model.eval()
    model.requires_grad_(False)
    return model


def load_or_train(
    world: WorldSpec, model_spec: ModelSpec, train: TrainSpec, seed: int, cache_dir: Path
) -> RecallLM:
    """A trained model for (world, model, training, seed), cached on disk by content hash."""
    key = json.dumps([asdict(world), asdict(model_spec), asdict(train), seed], sort_keys=True)
    path = cache_dir / f"recall_{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
    if path.is_file():
        model = RecallLM(world.vocab, model_spec)
        model.load_state_dict(torch.load(path, weights_only=True))
        model.eval()
        model.requires_grad_(False)
        print(f"  loaded cached model {path.name}", flush=True)
        return model
    began = time.perf_counter()
    model = train_model(world, model_spec, train, seed)
    print(f"  trained in {time.perf_counter() - began:.1f}s", flush=True)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(model.state_dict(), tmp)
        tmp.replace(path)
    except OSError as exc:
        print(f"  model cache not writable ({exc}); continuing without it", flush=True)
    return model
