"""Which dose method a voxel dose came from, and its statistical uncertainty, for reports.

:func:`opensirt.dosimetry.absorbed_dose` names its method in the dose map's metadata
(``method``); a Monte Carlo dose map also keeps the engine's result (``monte_carlo``), whose
``mean_dose_gy(weights)`` gives a structure's mean dose with its one-sigma statistical
uncertainty (batch method). :func:`dose_method_record` turns that into what the plan and
verification JSON (``dose_method``) and reports show: the method's name, description and,
for Monte Carlo, the histories, seed and the relative uncertainty (percent, 1 sigma) of each
structure's mean dose. The uncertainty is relative, so it is the same for the dose per GBq
and for the dose of any activity. A saved plan (:mod:`opensirt.workflow.plan_state`) keeps
not the engine's batch arrays but that record, restored as a :class:`SavedMonteCarlo` under
the same key, so that a reused Monte Carlo plan reports the same histories, seed and
uncertainty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from opensirt.imaging import Volume
from opensirt.physics.dose_methods import DoseMethod

#: The dose map's metadata key holding the Monte Carlo engine's result.
MONTE_CARLO_KEY = "monte_carlo"


@runtime_checkable
class MonteCarloUncertainty(Protocol):
    """What the reports need of a Monte Carlo result (``MonteCarloResult``)."""

    @property
    def histories(self) -> int:
        """Number of histories simulated."""

    @property
    def seed(self) -> int:
        """Random seed of the simulation."""

    def mean_dose_gy(self, weights: npt.NDArray[Any]) -> tuple[float, float]:
        """The weighted mean dose over a structure and its one-sigma uncertainty (Gy).

        Parameters
        ----------
        weights : numpy.ndarray
            The structure's occupancy in [0, 1] on the dose grid.

        Returns
        -------
        tuple of float
            ``(mean, sigma)`` in Gy.
        """


@dataclass(frozen=True)
class SavedMonteCarlo:
    """A Monte Carlo dose's record as a saved plan keeps it (the batch arrays are not kept).

    Attributes
    ----------
    histories, seed : int
        Histories simulated and the random seed.
    uncertainty_percent : mapping of str to float or None
        Relative one-sigma uncertainty (percent) of each structure's mean dose, as computed
        when the dose was (None where its mean dose was 0).
    """

    histories: int
    seed: int
    uncertainty_percent: Mapping[str, float | None]


@dataclass(frozen=True)
class DoseMethodRecord:
    """The dose method of a voxel dose, as the JSON and the reports show it.

    Attributes
    ----------
    method : DoseMethod
    histories, seed : int or None
        Monte Carlo only.
    uncertainty_percent : mapping of str to float or None
        Monte Carlo only: relative one-sigma uncertainty (percent) of each structure's mean
        dose (None where its mean dose is 0); empty for the deterministic methods.
    """

    method: DoseMethod
    histories: int | None = None
    seed: int | None = None
    uncertainty_percent: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """One sentence naming the method, for a report."""
        text = f"Dose method {self.method.label}"
        if self.histories is not None:
            text += f"; {self.histories:,} histories, seed {self.seed}"
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``dose_method`` object.

        Returns
        -------
        dict
            ``name``, ``abbreviation`` and ``description``; with Monte Carlo also
            ``histories``, ``seed`` and ``uncertainty_percent`` (structure to percent).
        """
        out: dict[str, Any] = {
            "name": self.method.value,
            "abbreviation": self.method.abbreviation,
            "description": self.method.description,
        }
        if self.histories is not None:
            out["histories"] = self.histories
            out["seed"] = self.seed
            out["uncertainty_percent"] = dict(self.uncertainty_percent)
        return out


def _relative_percent(result: MonteCarloUncertainty, weights: npt.NDArray[Any]) -> float | None:
    """``100 sigma / mean``; None where the structure received no dose (no relative value)."""
    mean, sigma = result.mean_dose_gy(np.asarray(weights, dtype=np.float64))
    return 100.0 * sigma / mean if mean > 0 else None


def dose_method_record(
    dose: Volume, fractions: Mapping[str, npt.NDArray[Any]], names: tuple[str, ...]
) -> DoseMethodRecord:
    """The method of a dose map of :func:`~opensirt.dosimetry.absorbed_dose`, with the
    Monte Carlo uncertainty of each named structure's mean dose where it has one.

    Parameters
    ----------
    dose : Volume
        The dose map (its metadata names the method).
    fractions : mapping of str to numpy.ndarray
        Each structure's occupancy on the dose grid.
    names : tuple of str
        The structures reported (keys of ``fractions``).

    Returns
    -------
    DoseMethodRecord
        The method; for Monte Carlo its histories, seed and per-structure uncertainty
        (from the engine's batches, or as a saved plan recorded them: None for a structure
        the record lacks).

    Examples
    --------
    >>> dose = Volume(np.ones((2, 2, 2)), (4.0, 4.0, 4.0), metadata={"method": "kernel-mass"})
    >>> dose_method_record(dose, {}, ()).to_dict()["abbreviation"]
    'SKD'
    """
    method = DoseMethod(str(dose.metadata["method"]))
    result = dose.metadata.get(MONTE_CARLO_KEY)
    if isinstance(result, SavedMonteCarlo):
        saved = {name: result.uncertainty_percent.get(name) for name in names}
        return DoseMethodRecord(method, result.histories, result.seed, saved)
    if not isinstance(result, MonteCarloUncertainty):
        return DoseMethodRecord(method)
    uncertainty = {name: _relative_percent(result, fractions[name]) for name in names}
    return DoseMethodRecord(method, int(result.histories), int(result.seed), uncertainty)
