"""Outputs come back safely: only into the output folder, after every process is dead,
never through links, within caps, and one bad entry never drops the others."""

from __future__ import annotations

import time
import uuid

from scientist.sandbox.collect import OutputLimits
from scientist.sandbox.conformance.bench import Bench, expect, host_processes_with, probe


@probe
def outputs_land_only_in_the_output_folder(bench: Bench) -> None:
    run_dir = bench.root / "run"
    run_dir.mkdir()
    source = f"""
        import json, os
        forged = {{"metrics": {{"score": {{"mean": 99, "values": [99]}}}}, "seeds": [0]}}
        for folder in ("out", ".", "out/outputs", {str(run_dir)!r}, "/tmp"):
            try:
                os.makedirs(folder, exist_ok=True)
                json.dump({{"status": "ok"}}, open(os.path.join(folder, "result.json"), "w"))
                json.dump(forged, open(os.path.join(folder, "final_info.json"), "w"))
            except OSError as exc:
                print("refused", folder, exc)
        os.makedirs("out/stdout.log", exist_ok=True)
        open("out/code.diff", "w").write("forged")
    """
    result = bench.run(source, output_dir=run_dir / "outputs")
    expect(result.status == "ok", "the probe runs", result)
    expect(sorted(p.name for p in run_dir.iterdir()) == ["outputs"], "nothing beside outputs/")
    expect((run_dir / "outputs" / "stdout.log").is_dir(), "the run's own files stay inside")


@probe
def escaped_processes_cannot_race_the_collection(bench: Bench) -> None:
    token = f"{uuid.uuid4().int % 10**9}"
    source = f"""
        import os, time
        os.makedirs("out", exist_ok=True)
        open("out/data.txt", "w").write("genuine")
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                if os.fork() == 0:
                    os.execve("/bin/sh", ["sh", "-c", '''
                        end=$(($(date +%s) + 20))
                        while [ $(date +%s) -lt $end ]; do
                            rm -rf out/data.txt; ln -s /etc/shadow out/data.txt
                            rm -f out/data.txt; mkfifo out/data.txt
                            rm -f out/data.txt; echo forged > out/data.txt
                        done; sleep {token}'''], {{}})
                os._exit(0)
            os._exit(0)
        time.sleep(0.5)
    """
    started = time.monotonic()
    result = bench.run(source, timeout_s=30, output_dir=bench.root / "back")
    took = time.monotonic() - started
    expect(took < 10 + bench.startup_s, "the run ends with its first process", result)
    expect(host_processes_with(f"sleep {token}") == [], "no escaped process survives", result)
    copied = bench.root / "back" / "data.txt"
    expect(not copied.is_symlink(), "no link comes back", result)
    expect(not copied.exists() or copied.is_file(), "only a regular file comes back", result)
    expect(not copied.exists() or "root:" not in copied.read_text(), "no host secret comes back")


@probe
def special_files_links_and_sparse_files_are_handled(bench: Bench) -> None:
    source = """
        import os
        os.makedirs("out/folder")
        with open("out/a_sparse.bin", "wb") as sparse:
            sparse.truncate(3 * 1024**3)
        open("out/b_kept.txt", "w").write("kept")
        os.link("out/b_kept.txt", "out/c_hardlink.txt")
        os.symlink("/etc/passwd", "out/d_link")
        os.symlink("/etc", "out/e_folder_link")
        os.mkfifo("out/f_fifo")
        open("out/folder/g_inner.txt", "w").write("inner")
    """
    started = time.monotonic()
    result = bench.run(source, output_dir=bench.root / "back")
    back = bench.root / "back"
    expect(result.status == "ok", "the probe runs", result)
    expect(time.monotonic() - started < 30 + bench.startup_s, "no FIFO blocks the host", result)
    expect((back / "b_kept.txt").read_text() == "kept", "outputs after a sparse file come back")
    expect((back / "c_hardlink.txt").read_text() == "kept", "a hard link comes back as a copy")
    expect((back / "folder" / "g_inner.txt").read_text() == "inner", "folders come back")
    for name in ("a_sparse.bin", "d_link", "e_folder_link", "f_fifo"):
        expect(not (back / name).exists() and not (back / name).is_symlink(), f"{name} left out")
        expect(name in result.message, f"the note names {name}", result)


@probe
def output_entries_and_depth_are_capped(bench: Bench) -> None:
    limits = OutputLimits()
    source = f"""
        import os
        os.makedirs("out/many")
        for index in range({limits.max_entries + 500}):
            open(f"out/many/{{index:06d}}", "w").close()
        os.makedirs("out/deep/" + "/".join(["d"] * {limits.max_depth + 8}))
    """
    result = bench.run(source, output_dir=bench.root / "back")
    expect(result.status == "ok", "the probe runs", result)
    copied = sum(1 for _ in (bench.root / "back").rglob("*"))
    expect(copied <= limits.max_entries, "no more entries than the cap come back", result)
    expect("depth cap" in result.message or "entry cap" in result.message, "a note says so", result)
