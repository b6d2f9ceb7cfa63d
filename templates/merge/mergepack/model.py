"""A tiny decoder-only transformer whose digit tokens share structure across languages.

The embedding (and output row) of digit concept c in language l is ``concept[c] + language[l]``,
so the two languages share everything but one vector each. Blocks can be run in any order
(``forward_path``) for data-flow-space merging.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mergepack.world import IGNORE, N_CONCEPTS, N_LANGUAGES, SPECIALS, Batch


@dataclass(frozen=True)
class ModelConfig:
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    max_len: int = 32

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.out = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(width, dim=-1)
        heads = [t.view(batch, length, self.n_heads, -1).transpose(1, 2) for t in (q, k, v)]
        attended = F.scaled_dot_product_attention(*heads, is_causal=True)
        x = x + self.proj(attended.transpose(1, 2).reshape(batch, length, width))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class TinyLM(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.special_emb = nn.Parameter(torch.randn(len(SPECIALS), d) * 0.02)
        self.concept_emb = nn.Parameter(torch.randn(N_CONCEPTS, d) * 0.02)
        self.language_emb = nn.Parameter(torch.randn(N_LANGUAGES, d) * 0.02)
        self.pos_emb = nn.Parameter(torch.randn(cfg.max_len, d) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head_special = nn.Parameter(torch.randn(len(SPECIALS), d) * 0.02)
        self.head_concept = nn.Parameter(torch.randn(N_CONCEPTS, d) * 0.02)
        self.head_language = nn.Parameter(torch.randn(N_LANGUAGES, d) * 0.02)

    @staticmethod
    def _table(special: torch.Tensor, concept: torch.Tensor, language: torch.Tensor):
        digits = (language[:, None, :] + concept[None, :, :]).reshape(-1, concept.shape[1])
        return torch.cat([special, digits])

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        table = self._table(self.special_emb, self.concept_emb, self.language_emb)
        return table[tokens] + self.pos_emb[: tokens.shape[1]]

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        table = self._table(self.head_special, self.head_concept, self.head_language)
        return self.ln_f(hidden) @ table.T

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.logits(x)


def forward_path(
    host: TinyLM, layers: list[nn.Module], scales: list[float], tokens: torch.Tensor
) -> torch.Tensor:
    """Run `layers` in order between `host`'s embedding and head, scaling each layer input."""
    x = host.embed(tokens)
    for layer, scale in zip(layers, scales, strict=True):
        x = layer(x * scale)
    return host.logits(x)


def loss_on(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), ignore_index=IGNORE)


@torch.no_grad()
def score(logits: torch.Tensor, batch: Batch) -> tuple[float, float]:
    """(exact match, mean answer-token probability) under teacher forcing.

    Teacher-forced exact match equals greedy-decoding exact match: greedy decoding reproduces
    the answer iff every answer token is the argmax given the correct prefix.
    """
    mask = batch.targets != IGNORE
    safe = batch.targets.clamp(min=0)
    correct = (logits.argmax(-1) == safe) | ~mask
    exact = correct.all(dim=1).float().mean().item()
    prob = logits.softmax(-1).gather(-1, safe[..., None]).squeeze(-1)
    soft = (prob * mask).sum().item() / mask.sum().item()
    return exact, soft
