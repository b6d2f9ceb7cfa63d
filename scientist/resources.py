"""Data shipped inside the package: the experiment packs, the review form, the pack scaffold.

In the source tree `scientist/packs` and `scientist/review_form` are links to the top-level
`templates/` and `reviews/` folders; a built wheel holds copies. Either way they are found
through `importlib.resources`, so an editable install and a wheel install behave alike.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_folder(name: str) -> Path:
    """The packaged folder `name` (`packs`, `review_form`, `scaffold`) as a filesystem path."""
    return Path(str(resources.files("scientist").joinpath(name)))
