"""scientist: an automated research framework."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scientist")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
