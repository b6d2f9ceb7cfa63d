"""What the bubblewrap command line of a local run gives it (no GPU or bwrap needed)."""

from __future__ import annotations

from pathlib import Path

from scientist.sandbox.bwrap import gpu_device_nodes


def test_only_the_pinned_gpus_device_nodes_are_bound(tmp_path: Path) -> None:
    for name in ("nvidia0", "nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm", "nvidia-caps"):
        (tmp_path / name).touch()
    nodes = [path.name for path in gpu_device_nodes([2, 0], dev=tmp_path)]
    assert nodes == ["nvidia0", "nvidia2", "nvidiactl", "nvidia-uvm"]
    assert gpu_device_nodes([], dev=tmp_path) == []
