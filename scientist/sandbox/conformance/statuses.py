"""A run's status comes from what the host saw, never from what the code printed or chose."""

from __future__ import annotations

from scientist.sandbox.conformance.bench import Bench, expect, probe


@probe
def dying_by_its_own_signal_is_an_error_not_oom(bench: Bench) -> None:
    for signal in ("SIGKILL", "SIGSEGV", "SIGABRT"):
        result = bench.run(f"import os, signal\nos.kill(os.getpid(), signal.{signal})\n")
        expect(result.status == "error", f"self-{signal} is an error", result)


@probe
def exit_code_124_is_an_error_not_a_timeout(bench: Bench) -> None:
    result = bench.run("raise SystemExit(124)")
    expect(result.status == "error" and result.exit_code == 124, "exit 124 is an error", result)


@probe
def memory_error_text_is_not_oom(bench: Bench) -> None:
    result = bench.run("import sys\nsys.exit('MemoryError: Cannot allocate memory')")
    expect(result.status == "error", "text on stderr does not make an oom", result)
