"""DARE's drop masks from a counter-based random stream.

Entry i of a tensor draws the 32-bit hash h(offset + i * multiplier mod 2**32), where h is
the "lowbias32" integer finaliser (xor-shift 16, multiply, xor-shift 15, multiply, xor-shift
16). The high 16 bits of a hash are one source's draw and the low 16 bits the next
source's, so one hash serves a pair of sources. A source of density d keeps entry i when
its draw is below round(d * 2**16): the keep probability is d to within 2**-17. Each pair
of sources of a tensor has its own (offset, odd multiplier), drawn from the seeded
generator. A draw depends only on its key and its index, so a mask computed block by
block, in one piece, on the CPU or on CUDA is the same mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

DRAW_LEVELS = 1 << 16
_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
_SHIFTS = (16, 15)


def _int32(value: int) -> int:
    """`value` mod 2**32 as a signed 32-bit integer (torch has no unsigned arithmetic)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _logical_shift_xor(hashes: torch.Tensor, shift: int, scratch: torch.Tensor) -> None:
    """hashes ^= hashes >>> shift, in 32-bit unsigned terms."""
    torch.bitwise_right_shift(hashes, shift, out=scratch)
    scratch.bitwise_and_((1 << (32 - shift)) - 1)
    hashes.bitwise_xor_(scratch)


def keep_levels(densities: Sequence[float]) -> list[int]:
    """Draws below these levels are kept."""
    return [round(min(max(d, 0.0), 1.0) * DRAW_LEVELS) for d in densities]


def stream_keys(sources: int, generator: torch.Generator) -> tuple[list[int], list[int]]:
    """The (offsets, odd multipliers) of a tensor's hash pairs, drawn from `generator`."""
    keys = torch.randint(0, 1 << 32, ((sources + 1) // 2, 2), generator=generator).tolist()
    return [offset for offset, _ in keys], [multiplier | 1 for _, multiplier in keys]


class DropStream:
    """Keep masks (float 1/0) of one tensor's sources, for any range of flat indices."""

    def __init__(
        self,
        densities: Sequence[float],
        generator: torch.Generator,
        capacity: int,
        device: torch.device,
    ) -> None:
        self.offsets, self.multipliers = stream_keys(len(densities), generator)
        pairs = len(self.offsets)
        index = torch.arange(capacity, dtype=torch.int32, device=device)
        self.scaled = torch.stack([index * _int32(m) for m in self.multipliers])
        # row 2j ends as pair j's high halves (source 2j), row 2j + 1 as its low halves
        self.draws = torch.empty(2 * pairs, capacity, dtype=torch.int32, device=device)
        self.levels = torch.tensor(keep_levels(densities), dtype=torch.int32, device=device)
        self.levels = self.levels.reshape(-1, 1)

    def keep(self, start: int, out: torch.Tensor) -> torch.Tensor:
        """Masks of flat indices start .. start + out.shape[1] - 1 into `out` ([sources, size],
        int32): all bits set (-1) where an entry is kept, 0 where it is dropped, so that a
        bitwise and with a float32 tensor's bits keeps or zeroes its entries."""
        size = out.shape[1]
        draws = self.draws[:, :size]
        high, hashes = draws[0::2], draws[1::2]
        for pair, (offset, multiplier) in enumerate(
            zip(self.offsets, self.multipliers, strict=True)
        ):
            torch.add(
                self.scaled[pair, :size], _int32(offset + start * multiplier), out=hashes[pair]
            )
        for shift, multiplier in zip(_SHIFTS, _MULTIPLIERS, strict=True):
            _logical_shift_xor(hashes, shift, high)
            hashes.mul_(_int32(multiplier))
        torch.bitwise_right_shift(hashes, 16, out=high)
        high.bitwise_and_(0xFFFF)  # the high half, which the last xor-shift leaves as it is
        hashes.bitwise_xor_(high).bitwise_and_(0xFFFF)  # the low half after the last xor-shift
        # draw - level lies in [-2**16, 2**16): its arithmetic shift by 16 is -1 below the level
        torch.sub(draws[: out.shape[0]], self.levels, out=out)
        return out.bitwise_right_shift_(16)


def dare(delta: torch.Tensor, density: float, generator: torch.Generator) -> torch.Tensor:
    """Drop entries with probability 1 - density and rescale the survivors by 1/density."""
    if density >= 1:
        return delta
    if density <= 0:
        return torch.zeros_like(delta)
    stream = DropStream([density], generator, delta.numel(), delta.device)
    keep = stream.keep(0, torch.empty(1, delta.numel(), dtype=torch.int32, device=delta.device))
    return (delta * keep.view(delta.shape).bool() / density).to(delta.dtype)
