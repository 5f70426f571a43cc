"""The errors of PACS networking: each names the node and the step that failed.

They derive from :class:`~opensirt.errors.OpenSIRTError` (the command line exits 1 on them);
a wrong nodes file is an :class:`~opensirt.errors.InputError` instead (exit 2).
"""

from __future__ import annotations

from opensirt.errors import OpenSIRTError

__all__ = [
    "AssociationRefusedError",
    "IncompleteSeriesError",
    "NodeUnreachableError",
    "PacsError",
    "PacsTimeoutError",
    "WrongPatientError",
]


class PacsError(OpenSIRTError, RuntimeError):
    """A PACS operation failed.

    Parameters
    ----------
    node : str
        The node's name in the nodes file.
    step : str
        What was being done (``"C-FIND"``, ``"C-GET"``, ``"QIDO-RS"`` ...).
    reason : str
        What went wrong and the way out.

    Attributes
    ----------
    node : str
        The node's name.
    step : str
        The step that failed.
    """

    #: Whether trying again later may succeed (a network fault, not a refusal).
    transient = False

    def __init__(self, node: str, step: str, reason: str) -> None:
        super().__init__(f"PACS node {node!r}, {step}: {reason}")
        self.node = node
        self.step = step


class NodeUnreachableError(PacsError):
    """The node cannot be reached: down, wrong host or port, or a network fault."""

    transient = True


class PacsTimeoutError(PacsError):
    """The node did not answer in time."""

    transient = True


class AssociationRefusedError(PacsError):
    """The node refused the association (unknown AE title, no accepted context) or the
    request (authentication)."""


class IncompleteSeriesError(PacsError):
    """A series arrived with fewer (or other) instances than the query reported."""


class WrongPatientError(PacsError):
    """What arrived belongs to another patient, study or series than the one asked for."""
