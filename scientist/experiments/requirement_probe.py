"""Run inside a sandbox (standard library only): which of the given requirements import.

argv: requirement names. Prints one JSON line, {"missing": [...]}: the names none of whose
top-level modules (from the installed distribution, else the name itself) import here.
"""

import importlib
import importlib.metadata
import json
import re
import sys


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _modules(name: str) -> list[str]:
    wanted = _canonical(name)
    provided = importlib.metadata.packages_distributions()
    modules = [
        module
        for module, dists in sorted(provided.items())
        if not module.startswith("_") and any(_canonical(d) == wanted for d in dists)
    ]
    return modules or [re.sub(r"[-.]", "_", name)]


def _imports(name: str) -> bool:
    for module in _modules(name):
        try:
            importlib.import_module(module)
        except Exception:
            continue
        return True
    return False


if __name__ == "__main__":
    print(json.dumps({"missing": [name for name in sys.argv[1:] if not _imports(name)]}))
