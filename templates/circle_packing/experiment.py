"""The pack's experiment: 26 circles in the unit square, maximising the sum of their radii.

Contract with scientist:
  python experiment.py --out-dir DIR [--config overrides.json] [--smoke]
For each seed it places the circles on a lattice (`lattice`), moves each centre by a random
offset of up to `jitter`, gives them the radii of largest sum a linear programme finds for
those centres, and refines centres and radii together with SLSQP (scipy) for at most
`max_iter` iterations; `restarts` jittered starts are refined and the best kept. It
writes DIR/packings.json (each seed's centres and radii, which grader.py checks and scores)
and DIR/final_info.json (`sum_radii` per seed). `--smoke` refines a quarter of the
starts (at least one) for a tenth of the iterations (at least 10).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from packing_check import N_CIRCLES, sum_of_radii, violations
from scipy.optimize import linprog, minimize

DEFAULTS = {
    "lattice": "hex",
    "jitter": 0.02,
    "restarts": 4,
    "max_iter": 300,
    "seeds": [0, 1, 2],
}
ROWS = {"grid": [5, 5, 6, 5, 5], "hex": [5, 6, 5, 5, 5]}
SAFETY = 1e-12  # what a refined packing gives up to be valid without any tolerance


def lattice_start(lattice: str, rng: np.random.Generator) -> np.ndarray:
    """Centres on rows of the lattice ('hex' shifts every other row by half a step), or
    uniformly at random ('random')."""
    if lattice == "random":
        return rng.uniform(0.1, 0.9, size=(N_CIRCLES, 2))
    counts = ROWS[lattice]
    centers = []
    for row, count in enumerate(counts):
        y = (row + 0.5) / len(counts)
        shift = 0.25 / count if lattice == "hex" and row % 2 else 0.0
        centers += [[(k + 0.5) / count + shift, y] for k in range(count)]
    return np.array(centers)


def best_radii(centers: np.ndarray) -> np.ndarray:
    """The radii of largest sum for fixed centres (a linear programme): each circle inside
    the square, each pair's radii summing to at most their centres' distance."""
    n = N_CIRCLES
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    rows = np.zeros((len(pairs), n))
    for row, (i, j) in enumerate(pairs):
        rows[row, [i, j]] = 1
    distance = [np.linalg.norm(centers[i] - centers[j]) for i, j in pairs]
    walls = np.min(np.concatenate([centers, 1 - centers], axis=1), axis=1)
    bounds = list(zip(np.zeros(n), walls, strict=True))
    result = linprog(-np.ones(n), A_ub=rows, b_ub=distance, bounds=bounds, method="highs")
    return result.x


def refine(centers: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """SLSQP over (x, y, r) of every circle from the centres with their best radii:
    maximise the sum of radii, each circle inside the square and no two overlapping. The
    refined packing is kept only when it beats its start."""
    n = N_CIRCLES
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)])
    start = np.concatenate([centers.ravel(), best_radii(centers)])

    def unpack(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return z[: 2 * n].reshape(n, 2), z[2 * n :]

    def walls(z: np.ndarray) -> np.ndarray:
        xy, r = unpack(z)
        return np.concatenate([xy[:, 0] - r, 1 - xy[:, 0] - r, xy[:, 1] - r, 1 - xy[:, 1] - r])

    def walls_jacobian(z: np.ndarray) -> np.ndarray:
        jac = np.zeros((4 * n, 3 * n))
        for k, (axis, sign) in enumerate([(0, 1), (0, -1), (1, 1), (1, -1)]):
            rows = np.arange(n) + k * n
            jac[rows, 2 * np.arange(n) + axis] = sign
            jac[rows, 2 * n + np.arange(n)] = -1
        return jac

    def apart(z: np.ndarray) -> np.ndarray:
        xy, r = unpack(z)
        delta = xy[pairs[:, 0]] - xy[pairs[:, 1]]
        return np.sum(delta**2, axis=1) - (r[pairs[:, 0]] + r[pairs[:, 1]]) ** 2

    def apart_jacobian(z: np.ndarray) -> np.ndarray:
        xy, r = unpack(z)
        i, j = pairs[:, 0], pairs[:, 1]
        delta = xy[i] - xy[j]
        both = r[i] + r[j]
        jac = np.zeros((len(pairs), 3 * n))
        rows = np.arange(len(pairs))
        for axis in (0, 1):
            jac[rows, 2 * i + axis] = 2 * delta[:, axis]
            jac[rows, 2 * j + axis] = -2 * delta[:, axis]
        jac[rows, 2 * n + i] = -2 * both
        jac[rows, 2 * n + j] = -2 * both
        return jac

    objective_jacobian = np.concatenate([np.zeros(2 * n), -np.ones(n)])
    result = minimize(
        lambda z: -np.sum(z[2 * n :]),
        start,
        jac=lambda z: objective_jacobian,
        method="SLSQP",
        bounds=[(0, 1)] * (2 * n) + [(0, 0.5)] * n,
        constraints=[
            {"type": "ineq", "fun": walls, "jac": walls_jacobian},
            {"type": "ineq", "fun": apart, "jac": apart_jacobian},
        ],
        options={"maxiter": max_iter, "ftol": 1e-12},
    )
    refined, initial = made_valid(*unpack(result.x)), made_valid(*unpack(start))
    return refined if refined[1].sum() >= initial[1].sum() else initial


def made_valid(centers: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The largest radii no larger than `radii` that keep every circle inside the square and
    every pair apart, by SAFETY: the optimiser meets its constraints only approximately."""
    radii = np.minimum(radii, np.min(np.concatenate([centers, 1 - centers], axis=1), axis=1))
    radii = np.maximum(radii - SAFETY, 0.0)
    for _ in range(N_CIRCLES):
        distance = np.linalg.norm(centers[:, None] - centers[None], axis=2)
        np.fill_diagonal(distance, np.inf)
        excess = radii[:, None] + radii[None] - distance
        if excess.max() <= -SAFETY:
            break
        both = np.maximum(radii[:, None] + radii[None], 1e-300)
        scale = np.where(excess > -SAFETY, (distance - SAFETY) / both, 1)
        radii = radii * np.minimum(scale.min(axis=1), 1.0)
    return centers, np.maximum(radii, 0.0)


def pack(config: dict, seed: int, restarts: int, max_iter: int) -> dict:
    """The best of `restarts` refined jittered starts of `seed`."""
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        start = lattice_start(config["lattice"], rng)
        start = np.clip(start + rng.uniform(-1, 1, start.shape) * config["jitter"], 0.01, 0.99)
        centers, radii = refine(start, max_iter)
        if best is None or radii.sum() > best[1].sum():
            best = (centers, radii)
    return {"centers": best[0].tolist(), "radii": best[1].tolist()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--config", type=Path, help="JSON overrides of DEFAULTS")
    parser.add_argument(
        "--smoke", action="store_true", help="a quarter of the starts, a tenth of the iterations"
    )
    args = parser.parse_args()
    config = dict(DEFAULTS)
    if args.config:
        overrides = json.loads(args.config.read_text())
        unknown = sorted(set(overrides) - set(DEFAULTS))
        if unknown:
            sys.exit(f"unknown config keys: {unknown}")
        config.update(overrides)
    restarts, max_iter = config["restarts"], config["max_iter"]
    if args.smoke:
        restarts, max_iter = max(1, restarts // 4), max(10, max_iter // 10)
    started = time.time()
    packings = {str(seed): pack(config, seed, restarts, max_iter) for seed in config["seeds"]}
    values = []
    for seed, packing in packings.items():
        broken = violations(packing["centers"], packing["radii"])
        if broken:
            sys.exit(f"seed {seed}: invalid packing: {broken[0]}")
        values.append(sum_of_radii(packing["radii"]))
        print(f"seed {seed}: sum of radii {values[-1]:.6f}", flush=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "packings.json").write_text(json.dumps(packings))  # what grader.py scores
    info = {
        "metrics": {"sum_radii": {"values": values}},
        "config": config,
        "seeds": config["seeds"],
        "runtime_s": time.time() - started,
    }
    (args.out_dir / "final_info.json").write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
