"""The case file's optional ``dosimetry:`` block: which voxel dose method to use.

.. code-block:: yaml

   dosimetry:
     method: kernel-mass          # one of opensirt.dosimetry.DOSE_METHODS
     monte_carlo:                 # only with method: monte-carlo; both keys optional
       histories: 2000000
       seed: 20261201

Without the block (or without ``method``) the voxel plan and the verification use
:data:`~opensirt.physics.dose_methods.DEFAULT_DOSE_METHOD`. The command line's
``--dose-method`` replaces the case's method (:func:`with_dose_method`). Cohort
re-dosimetry (``opensirt analytics redose``) computes every case of a run by one method, its
own ``--dose-method`` (default ``DEFAULT_DOSE_METHOD``), not the case's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from opensirt.errors import InputError
from opensirt.physics.dose_methods import DEFAULT_DOSE_METHOD, DoseMethod

if TYPE_CHECKING:
    from opensirt.planning.case import Case

#: Most Monte Carlo histories a case file may ask for: 10^10 primaries is hours on a
#: workstation; more is a typing mistake.
MAX_HISTORIES = 10**10


class MonteCarloSettings(BaseModel):
    """Monte Carlo options: number of histories and random seed (engine defaults if absent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    histories: Annotated[int, Field(strict=True, ge=1, le=MAX_HISTORIES)] | None = None
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**63)] | None = None


class Dosimetry(BaseModel):
    """How the voxel dose is computed: the method and, for Monte Carlo, its options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: DoseMethod = DEFAULT_DOSE_METHOD
    monte_carlo: MonteCarloSettings | None = None

    @model_validator(mode="after")
    def _options_of_the_method(self) -> Self:
        if self.monte_carlo is not None and self.method is not DoseMethod.MONTE_CARLO:
            raise ValueError(
                f"dosimetry.monte_carlo applies only to method {DoseMethod.MONTE_CARLO.value!r}, "
                f"not {self.method.value!r}; remove it or set dosimetry.method: monte-carlo"
            )
        return self

    def options(self) -> dict[str, Any]:
        """The method's options for :func:`opensirt.dosimetry.absorbed_dose`.

        Returns
        -------
        dict
            ``histories`` and ``seed`` where the case gives them (Monte Carlo); else empty.

        Examples
        --------
        >>> Dosimetry(method="monte-carlo", monte_carlo={"seed": 7}).options()
        {'seed': 7}
        >>> Dosimetry().options()
        {}
        """
        if self.monte_carlo is None:
            return {}
        return self.monte_carlo.model_dump(exclude_none=True)


def case_dosimetry(case: Case) -> Dosimetry:
    """The dose method of a case: its ``dosimetry:`` block, or the default.

    Parameters
    ----------
    case : Case
        The case file as read.

    Returns
    -------
    Dosimetry
        The case's block, or ``Dosimetry()`` (the default method) when it has none.
    """
    return case.dosimetry if case.dosimetry is not None else Dosimetry()


def with_dose_method(case: Case, name: str | None) -> Case:
    """The case with its dose method replaced (the command line's ``--dose-method``).

    The case's Monte Carlo options are kept when the method stays Monte Carlo.

    Parameters
    ----------
    case : Case
        The case file as read.
    name : str or None
        A dose method name; ``None`` keeps the case as it is.

    Returns
    -------
    Case
        The case with ``dosimetry.method`` set to ``name``.

    Raises
    ------
    InputError
        If ``name`` is not a dose method; the message lists the names.
    """
    if name is None:
        return case
    try:
        method = DoseMethod(name.strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in DoseMethod)
        raise InputError(f"--dose-method is {name!r}, expected one of {names}") from None
    given = case_dosimetry(case)
    keep = given.monte_carlo if method is DoseMethod.MONTE_CARLO else None
    dosimetry = Dosimetry(method=method, monte_carlo=keep)
    return case.model_copy(update={"dosimetry": dosimetry})
