"""TIES, DARE-TIES and DARE-linear of a float32 CPU tensor in one compiled loop over its
entries.

Each entry's inputs are read once and its merge written once, with nothing in between but
registers, so a merge runs near the memory bandwidth. `masked` does the same work in
blocks of eager operations on CUDA and for other dtypes; both give the same merge, bit for
bit. The loop is compiled by numba, once per operator and number of sources in a process:
the steps of each source are written out one after another, so the loop over entries has
no inner loop and vectorises. The arithmetic is `masked`'s, operation for operation in
float32 (no reassociation, no fused multiply-add); DARE's draws are `dropout`'s hash in
unsigned 32-bit arithmetic.

Without numba (it is among the pack's requirements) `masked` runs everything eagerly.
"""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
import torch

# numba is imported when a loop is first compiled, not with the pack (it would import scipy
# into a grader that never merges); without it the eager blocks of `masked` merge alone
AVAILABLE = importlib.util.find_spec("numba") is not None

_TIES_HEAD = """
def kernel(
    base, sources, highs, lows, scales, weights, floor, positive, out, index, values, deltas
):
    zero, one = np.float32(0.0), np.float32(1.0)
    inside = np.zeros(CHUNK, np.bool_)  # stale flags past a short chunk must be 0 or 1
    flagged = inside.view(np.uint64)
    count = 0
"""
_TIES_SOURCE = """
    s{k}, h{k}, l{k}, c{k}, w{k} = sources[{k}], highs[{k}], lows[{k}], scales[{k}], weights[{k}]
    a{k} = 0
"""
_TIES_CHUNK = """
    for start in range(0, base.size, CHUNK):
        size = min(CHUNK, base.size - start)
        chunk, written = base[start : start + size], out[start : start + size]
{views}
        for i in range(size):
            b = chunk[i]
{entries}
            inside[i] = {flags}
{write}
        for word in range((size + 7) // 8):
            bits = flagged[word]  # eight flags, each byte 0 or 1; most words are all clear
            while bits != NOTHING:
                lowest = bits & (NOTHING - bits)  # the lowest set flag, 1 << 8j for entry j
                bits ^= lowest
                i = 8 * word + 7 - int((lowest * BYTE_INDEX) >> TOP_BYTE)
                if i < size:  # the last word of the last chunk may hold stale flags
                    b = chunk[i]
                    index[count] = start + i
                    values[count] = b
{listed}
                    count += 1
{counted}"""
_TIES_COUNTED = """
        a{k} += n{k}
"""
_TIES_LISTED = """
                    deltas[{k}, count] = q{k}[i] - b
"""
_TIES_VIEW = """
        q{k} = s{k}[start : start + size]
        n{k} = np.int32(0)  # kept in the chunk: 32-bit sums vectorise twice as wide
"""
_TIES_ENTRY = """
        d{k} = q{k}[i] - b
        m{k} = abs(d{k})
        k{k} = m{k} > h{k}
        n{k} = np.int32(n{k} + np.int32(k{k}))
        x{k} = (d{k} * (one if k{k} else zero)) * c{k}
"""
_REWRITE_HEAD = """
def kernel(values, deltas, index, kept, scales, weights, floor, positive, out):
    zero, one = np.float32(0.0), np.float32(1.0)
"""
_REWRITE_SOURCE = """
    e{k}, t{k}, c{k}, w{k} = deltas[{k}], kept[{k}], scales[{k}], weights[{k}]
"""
_REWRITE_ENTRY = """
        x{k} = (e{k}[j] * (one if t{k}[j] else zero)) * c{k}
"""
_DARE_HEAD = """
def kernel(base, sources, offsets, multipliers, levels, scales, weights, floor, positive, out):
    zero, one = np.float32(0.0), np.float32(1.0)
"""
_DARE_SOURCE = """
    s{k}, v{k}, c{k}, w{k} = sources[{k}], levels[{k}], scales[{k}], weights[{k}]
"""
_DARE_PAIR = """
    o{j}, u{j} = offsets[{j}], multipliers[{j}]
"""
_DARE_HASH = """
        p{j} = (o{j} + np.uint64(i) * u{j}) & MASK32
        p{j} ^= p{j} >> SHIFT16
        p{j} = (p{j} * LOWBIAS1) & MASK32
        p{j} ^= p{j} >> SHIFT15
        p{j} = (p{j} * LOWBIAS2) & MASK32
"""
_DARE_ENTRY = """
        d{k} = s{k}[i] - b
        x{k} = (d{k} if {draw} < v{k} else zero) * c{k}
"""
_AGREE = """
        g{k} = one if ((x{k} < zero) if negative else (x{k} > zero)) else zero
"""
_ELECTED_WRITE = """
        negative = np.signbit({total})
{agree}
        divisor = {divisor}
        if positive:
            divisor = divisor if divisor > floor else floor
        elif divisor == zero:
            divisor = one
        out[i] = b + ({numerator}) / divisor
"""


def _each(template: str, count: int) -> str:
    return "".join(template.format(k=k, j=k) for k in range(count))


def _joined(template: str, count: int, separator: str) -> str:
    return separator.join(template.format(k=k) for k in range(count))


def _write(method: str, sources: int) -> str:
    total = _joined("x{k}", sources, " + ")
    if method == "dare_linear":
        return f"        out[i] = b + ({total})\n"
    return _ELECTED_WRITE.format(
        total=total,
        agree=_each(_AGREE, sources),
        divisor=_joined("g{k} * w{k}", sources, " + "),
        numerator=_joined("x{k} * g{k}", sources, " + "),
    )


def _source_code(method: str, sources: int) -> str:
    """The kernel's Python source for `method` with `sources` sources."""
    loop = "    for i in range(base.size):\n        b = base[i]\n"
    if method == "ties":
        chunk = _TIES_CHUNK.format(
            views=_each(_TIES_VIEW, sources),
            entries=textwrap.indent(_each(_TIES_ENTRY, sources), "    "),
            flags=_joined("((m{k} >= l{k}) & ~k{k})", sources, " | "),
            listed=_each(_TIES_LISTED, sources),
            counted=_each(_TIES_COUNTED, sources),
            write=textwrap.indent(_write(method, sources).replace("out[i]", "written[i]"), "    "),
        )
        above = "".join(f"a{k}, " for k in range(sources))
        return _TIES_HEAD + _each(_TIES_SOURCE, sources) + chunk + f"    return count, ({above})\n"
    if method == "ties_rewrite":
        write = _write(method, sources).replace("out[i]", "out[index[j]]")
        return (
            _REWRITE_HEAD
            + _each(_REWRITE_SOURCE, sources)
            + "    for j in range(index.size):\n        b = values[j]\n"
            + _each(_REWRITE_ENTRY, sources)
            + write
        )
    entries = ""
    for k in range(sources):
        j = k // 2  # source 2j draws the high half of pair j's hash, 2j + 1 the low half
        draw = f"(p{j} >> SHIFT16)" if k % 2 == 0 else f"((p{j} ^ (p{j} >> SHIFT16)) & LOW16)"
        entries += _DARE_ENTRY.format(k=k, draw=draw)
    pairs = (sources + 1) // 2
    return (
        _DARE_HEAD
        + _each(_DARE_SOURCE, sources)
        + _each(_DARE_PAIR, pairs)
        + loop
        + _each(_DARE_HASH, pairs)
        + entries
        + _write(method, sources)
    )


_CONSTANTS = {
    "np": np,
    "CHUNK": 4096,  # entries flagged before their candidates are listed
    "NOTHING": np.uint64(0),
    "BYTE_INDEX": np.uint64(0x0706050403020100),  # (1 << 8j) * this has 7 - j in its top byte
    "TOP_BYTE": np.uint64(56),
    "MASK32": np.uint64(0xFFFFFFFF),
    "LOW16": np.uint64(0xFFFF),
    "SHIFT16": np.uint64(16),
    "SHIFT15": np.uint64(15),
    "LOWBIAS1": np.uint64(0x7FEB352D),
    "LOWBIAS2": np.uint64(0x846CA68B),
}


def _gather(base, sources, index, base_out, deltas_out):
    for j in range(index.size):
        base_out[j] = base[index[j]]
    for k, source in enumerate(sources):
        row = deltas_out[k]
        for j in range(index.size):
            row[j] = source[index[j]] - base_out[j]


@cache
def _jit(function: Callable) -> Callable:
    import numba

    return numba.njit(nogil=True, error_model="numpy")(function)


@cache
def _kernel(method: str, sources: int) -> Callable:
    namespace = dict(_CONSTANTS)
    exec(compile(_source_code(method, sources), f"<{method} kernel>", "exec"), namespace)
    return _jit(namespace["kernel"])


def applies(base: torch.Tensor, sources: Sequence[torch.Tensor], out: torch.Tensor) -> bool:
    """Whether the compiled loop merges these tensors (float32, on the CPU, numba present)."""
    return AVAILABLE and all(
        t.device.type == "cpu" and t.dtype == torch.float32 for t in (base, *sources, out)
    )


def _flat(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().reshape(-1).numpy()


def _shared(weights: Sequence[float], scales: Sequence[float]) -> tuple:
    """The kernels' last per-source and scalar arguments: scales, weights, floor, positive."""
    return (
        np.asarray(scales, dtype=np.float32),
        np.asarray(weights, dtype=np.float32),
        np.float32(min(weights)),
        min(weights) > 0,
    )


def gather(
    base: torch.Tensor, sources: Sequence[torch.Tensor], index: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The base values ([count]) and task vectors ([sources, count]) at flat indices `index`."""
    flat_index = index.numpy()
    values = np.empty(flat_index.size, dtype=np.float32)
    deltas = np.empty((len(sources), flat_index.size), dtype=np.float32)
    _jit(_gather)(_flat(base), tuple(_flat(s) for s in sources), flat_index, values, deltas)
    return torch.from_numpy(values), torch.from_numpy(deltas)


def ties_pass(
    base: torch.Tensor,
    sources: Sequence[torch.Tensor],
    brackets: Sequence,
    weights: Sequence[float],
    out: torch.Tensor,
) -> tuple[list[int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """TIES into `out` with the entries inside each source's bracket dropped and those
    above it kept. Returns per source the count of entries above `high`, and the entries
    inside some source's bracket (listed while their chunk is in the cache): their flat
    indices (ascending), base values and task vectors ([sources, count])."""
    capacity = base.numel() + 1  # a listing writes one slot past its last entry
    index = np.empty(capacity, dtype=np.int64)
    values = np.empty(capacity, dtype=np.float32)
    deltas = np.empty((len(sources), capacity), dtype=np.float32)
    count, above = _kernel("ties", len(sources))(
        _flat(base),
        tuple(_flat(s) for s in sources),
        np.asarray([b.high for b in brackets], dtype=np.float32),
        np.asarray([b.low for b in brackets], dtype=np.float32),
        *_shared(weights, weights),
        _flat(out),
        index,
        values,
        deltas,
    )
    listed = (index[:count], values[:count], deltas[:, :count])  # only their pages were touched
    return [int(a) for a in above], tuple(torch.from_numpy(a) for a in listed)


def ties_rewrite(
    values: torch.Tensor,
    deltas: torch.Tensor,
    index: torch.Tensor,
    kept: torch.Tensor,
    weights: Sequence[float],
    out: torch.Tensor,
) -> None:
    """TIES again at flat indices `index` of `out`, from those entries' base `values` and
    task vectors `deltas` ([sources, count]) with the trim masks `kept` (the same shape)."""
    _kernel("ties_rewrite", deltas.shape[0])(
        values.numpy(),
        deltas.numpy(),
        index.numpy(),
        kept.numpy(),
        *_shared(weights, weights),
        _flat(out),
    )


def dare(
    method: str,
    base: torch.Tensor,
    sources: Sequence[torch.Tensor],
    keys: tuple[list[int], list[int]],
    levels: Sequence[int],
    weights: Sequence[float],
    scales: Sequence[float],
    out: torch.Tensor,
) -> None:
    """DARE-TIES or DARE-linear into `out`, with the drop stream's (offsets, multipliers)."""
    offsets, multipliers = keys
    _kernel(method, len(sources))(
        _flat(base),
        tuple(_flat(s) for s in sources),
        np.asarray(offsets, dtype=np.uint64),
        np.asarray(multipliers, dtype=np.uint64),
        np.asarray(levels, dtype=np.uint64),
        *_shared(weights, scales),
        _flat(out),
    )
