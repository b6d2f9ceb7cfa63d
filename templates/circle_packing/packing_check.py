"""The rules of the task, shared by experiment.py (its own check) and grader.py (the score
scientist trusts, computed again from the unedited pack). Protected: the code model may read
this file, never edit it.

26 circles in the unit square [0, 1] x [0, 1], no two overlapping; the score is the sum of
their radii. A packing is valid when every circle lies inside the square and no two circles
overlap, each by at most TOLERANCE.
"""

import math

N_CIRCLES = 26
TOLERANCE = 1e-9


def violations(centers: list[list[float]], radii: list[float]) -> list[str]:
    """Every way the packing breaks the rules by more than TOLERANCE ([] when valid)."""
    if len(centers) != N_CIRCLES or len(radii) != N_CIRCLES:
        return [f"{len(centers)} centers and {len(radii)} radii, not {N_CIRCLES} circles"]
    found = []
    for i, ((x, y), r) in enumerate(zip(centers, radii, strict=True)):
        if not all(math.isfinite(v) for v in (x, y, r)) or r < 0:
            found.append(f"circle {i} has a non-finite or negative value ({x}, {y}, r={r})")
            continue
        outside = max(r - x, x + r - 1, r - y, y + r - 1)
        if outside > TOLERANCE:
            found.append(f"circle {i} sticks out of the square by {outside:.3g}")
    for i in range(N_CIRCLES):
        for j in range(i + 1, N_CIRCLES):
            gap = math.dist(centers[i], centers[j]) - radii[i] - radii[j]
            if gap < -TOLERANCE:
                found.append(f"circles {i} and {j} overlap by {-gap:.3g}")
    return found


def sum_of_radii(radii: list[float]) -> float:
    return math.fsum(radii)
