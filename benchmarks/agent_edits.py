"""How robustly the code agent applies model answers, and what its whole-pack view costs.

1. Over a fixed set of recorded answers (every edit format, and the faults capable models
   make), the fraction handled correctly: applied to exactly the expected files, or, for an
   answer that must not apply, refused with nothing written.
2. The mean prompt tokens per code call on the merge and namm packs: one implement request
   per seed idea, sent through the real openai client to the replay server, tokens counted
   as the server counts them (4 characters per token); beside it, the same request showing
   only the entrypoint, which is all the agent saw before.

Usage: python benchmarks/agent_edits.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scientist.campaign import Campaign  # noqa: E402
from scientist.config import CampaignConfig, ModelsConfig  # noqa: E402
from scientist.context import Context  # noqa: E402
from scientist.experiments.agent import CodeSession  # noqa: E402
from scientist.experiments.coder import implement_request  # noqa: E402
from scientist.experiments.editing import apply_edits, parse_answer  # noqa: E402
from scientist.experiments.pack_view import PackView  # noqa: E402
from scientist.llm import open_llm  # noqa: E402
from scientist.llm.replay_server import ReplayServer  # noqa: E402
from scientist.models import ArchiveEntry, ExperimentRun, RunResult  # noqa: E402
from scientist.templates import load_template  # noqa: E402

MAIN = "BONUS = 0.0\n\n\ndef main():\n    value = 1\n    return value\n"
OPS = "def scale(x):\n    return x\n"
EDITED_OPS = "def scale(x):\n    return 2 * x\n"
SR = "lib/ops.py\n<<<<<<< SEARCH\n    return x\n=======\n    return 2 * x\n>>>>>>> REPLACE\n"
DIFF = (
    "--- a/lib/ops.py\n+++ b/lib/ops.py\n@@ -1,2 +1,2 @@\n"
    " def scale(x):\n-    return x\n+    return 2 * x\n"
)

# (case, answer, expected files after it; None = must be refused, nothing written)
CASES: list[tuple[str, str, dict[str, str] | None]] = [
    ("search/replace", SR, {"lib/ops.py": EDITED_OPS}),
    ("prose around blocks", "Here it is.\n\n" + SR + "\nThat's all.", {"lib/ops.py": EDITED_OPS}),
    ("fenced block", "```python\n" + SR + "```\n", {"lib/ops.py": EDITED_OPS}),
    ("path in backticks", SR.replace("lib/ops.py", "`lib/ops.py`", 1), {"lib/ops.py": EDITED_OPS}),
    ("bold path", SR.replace("lib/ops.py", "**lib/ops.py**", 1), {"lib/ops.py": EDITED_OPS}),
    (
        "path above the fence",
        "lib/ops.py\n```python\n" + SR.split("\n", 1)[1] + "```\n",
        {"lib/ops.py": EDITED_OPS},
    ),
    (
        "eight-character markers",
        SR.replace("<<<<<<<", "<<<<<<<<")
        .replace("=======", "========")
        .replace(">>>>>>>", ">>>>>>>>"),
        {"lib/ops.py": EDITED_OPS},
    ),
    ("CRLF line endings", SR.replace("\n", "\r\n"), {"lib/ops.py": EDITED_OPS}),
    (
        "SEARCH without indentation",
        SR.replace("SEARCH\n    return x", "SEARCH\nreturn x").replace(
            "=======\n    return 2", "=======\nreturn 2"
        ),
        {"lib/ops.py": EDITED_OPS},
    ),
    (
        "trailing spaces in SEARCH",
        SR.replace("return x\n", "return x   \n", 1),
        {"lib/ops.py": EDITED_OPS},
    ),
    ('"Done!" then blocks', "Done!\n\n" + SR, {"lib/ops.py": EDITED_OPS}),
    ("unified diff", DIFF, {"lib/ops.py": EDITED_OPS}),
    ("unified diff, fenced", "```diff\n" + DIFF + "```\n", {"lib/ops.py": EDITED_OPS}),
    (
        "unified diff, wrong line numbers",
        DIFF.replace("@@ -1,2 +1,2 @@", "@@ -40,2 +40,2 @@"),
        {"lib/ops.py": EDITED_OPS},
    ),
    ("whole file", "lib/ops.py\n```python\n" + EDITED_OPS + "```\n", {"lib/ops.py": EDITED_OPS}),
    (
        "new file, empty SEARCH",
        "lib/new.py\n<<<<<<< SEARCH\n=======\nX = 1\n>>>>>>> REPLACE\n",
        {"lib/new.py": "X = 1\n"},
    ),
    (
        "new file, diff from /dev/null",
        "--- /dev/null\n+++ b/lib/new.py\n@@ -0,0 +1 @@\n+X = 1\n",
        {"lib/new.py": "X = 1\n"},
    ),
    (
        "two files, mixed formats",
        SR + "\n--- a/main.py\n+++ b/main.py\n@@ -1 +1 @@\n-BONUS = 0.0\n+BONUS = 0.5\n",
        {"lib/ops.py": EDITED_OPS, "main.py": MAIN.replace("0.0", "0.5")},
    ),
    (
        "fault: SEARCH inside a line",
        "main.py\n<<<<<<< SEARCH\n= 0.0\n=======\n= 0.5\n>>>>>>> REPLACE\n",
        None,
    ),
    ("fault: SEARCH not in the file", SR.replace("return x\n", "return y\n", 1), None),
    (
        "fault: one of two blocks misses",
        SR + "main.py\n<<<<<<< SEARCH\nBONUS = 9\n=======\nBONUS = 1\n>>>>>>> REPLACE\n",
        None,
    ),
    ("fault: path outside the pack", SR.replace("lib/ops.py", "../ops.py", 1), None),
    ("fault: block without a path", SR.split("\n", 1)[1], None),
    ("fault: cut before REPLACE marker", SR.rsplit(">>>>>>>", 1)[0], None),
    ("fault: snippet shown as a file", "main.py\n```python\nBONUS = 0.5\n```\n", None),
]


def handled(answer: str, expected: dict[str, str] | None) -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        code = Path(scratch) / "pack"
        (code / "lib").mkdir(parents=True)
        (code / "main.py").write_text(MAIN)
        (code / "lib" / "ops.py").write_text(OPS)
        before = {p: p.read_text() for p in code.rglob("*.py")}
        parsed = parse_answer(answer)
        report = apply_edits(code, parsed.blocks, {"main.py", "lib/ops.py"})
        applied = report.ok and not parsed.unreadable and bool(parsed.blocks)
        after = {p: p.read_text() for p in code.rglob("*.py")}
        if expected is None:
            return not applied and after == before
        changed = {str(p.relative_to(code)): t for p, t in after.items() if before.get(p) != t}
        return applied and changed == expected


def prompt_tokens(pack: str) -> tuple[float, float, int]:
    """Mean prompt tokens of a first code call over the pack's seed ideas: whole-pack view,
    entrypoint-only view, and the number of calls."""
    template = load_template(pack)
    entrypoint = template.manifest.entrypoint
    narrow_manifest = template.manifest.model_copy(
        update={
            "agent": template.manifest.agent.model_copy(
                update={"readable": [entrypoint], "editable": [entrypoint]}
            )
        }
    )
    narrow = template.model_copy(update={"manifest": narrow_manifest})
    ideas = template.seed_ideas()
    means = []
    with tempfile.TemporaryDirectory() as scratch, ReplayServer() as server:
        server.load([{"text": "NO CHANGE"}] * (2 * len(ideas)))
        config = CampaignConfig(template=pack, seeds=[0, 1, 2])
        models = ModelsConfig(code="openai:gpt-4o", base_url=f"{server.url}/v1")
        with open_llm(models) as llm:
            context = Context(Campaign(Path(scratch), config), template, None, llm, None)  # type: ignore[arg-type]
            result = RunResult(exit_code=0, status="ok")
            base = ExperimentRun(idea_id="baseline", index=0, result=result, run_dir=Path(scratch))
            for shown in (template, narrow):
                first = len(server.requests)
                for k, idea in enumerate(ideas):
                    view = PackView(shown, template.root)
                    entry = ArchiveEntry(id=f"0_{k}_{idea.name}", idea=idea)
                    request = implement_request(context, entry, base, view, "No runs yet.", run=1)
                    CodeSession(llm.for_role("code"), view).ask(request)  # type: ignore[arg-type]
                sent = server.requests[first:]
                means.append(
                    sum(len(json.dumps(r["body"]["messages"])) // 4 for r in sent) / len(sent)
                )
    return means[0], means[1], len(ideas)


def main() -> None:
    print(f"machine: {describe()}")
    print("\nrecorded answers: handled correctly (applied as expected, or refused)\n")
    print(f"| {'case':<36} | handled |")
    print(f"|{'-' * 38}|---------|")
    results = [(name, handled(answer, expected)) for name, answer, expected in CASES]
    for name, ok in results:
        print(f"| {name:<36} | {'yes' if ok else 'NO':>7} |")
    good = sum(ok for _, ok in results)
    print(f"\nfraction handled correctly: {good}/{len(results)} = {good / len(results):.2f}")
    print("\nprompt tokens per code call (first call of each seed idea; 4 chars per token)\n")
    print("| pack  | calls | whole-pack view | entrypoint only | ratio |")
    print("|-------|-------|-----------------|-----------------|-------|")
    for pack in ("merge", "namm"):
        whole, narrow, calls = prompt_tokens(pack)
        ratio = whole / narrow
        print(f"| {pack:<5} | {calls:>5} | {whole:>15.0f} | {narrow:>15.0f} | {ratio:>5.1f} |")


if __name__ == "__main__":
    main()
