"""OpenSIRT: open-source software for liver radioembolization (SIRT/TARE).

Research software, not a certified medical device: every result must be checked by a
qualified medical physicist before clinical use.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opensirt")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
