"""The exception tree of OpenSIRT.

Every error raised on purpose by OpenSIRT derives from :class:`OpenSIRTError`.
Subclasses also derive from the built-in exception they refine, so that
``except ValueError`` keeps working for callers that do not know OpenSIRT.

A message names the argument, the value received, what was expected (with
units) and the way out, for example::

    lung_shunt_fraction is 1.3, expected a fraction in [0, 1] (did you pass a percentage?)
"""

from __future__ import annotations


class OpenSIRTError(Exception):
    """Base class of every error that OpenSIRT raises on purpose."""


class InputError(OpenSIRTError, ValueError):
    """A value given by the user is out of range, of the wrong unit or inconsistent."""


class CaseFileError(InputError):
    """A case file cannot be read or does not follow the case-file contract."""


class GeometryError(InputError):
    """Image grids or frames of reference do not match where they must."""


class ImageReadError(InputError):
    """An image or segmentation file cannot be read, or is ambiguous."""


class RegistrationError(GeometryError):
    """Two studies could not be registered: the result failed its quality check."""


class PlanRefusedError(OpenSIRTError):
    """No activity satisfies every safety limit: the plan is refused.

    Attributes
    ----------
    reason : str
        Why no safe plan exists, in words a clinician can act on.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DataFileError(OpenSIRTError, RuntimeError):
    """Data shipped with OpenSIRT (kernels, tables) is missing or corrupt."""


def check_fraction(name: str, value: float, *, hint: str = "") -> float:
    """Return ``value`` if it is a fraction in [0, 1], else raise :class:`InputError`.

    Parameters
    ----------
    name : str
        The field's name as the user wrote it (case-file key or argument), for the message.
    value : float
        The value to check (dimensionless fraction, not a percentage).
    hint : str, optional
        Text appended to the error message; by default (``""``) a value in (1, 100] gets a
        hint that it looks like a percentage.

    Returns
    -------
    float
        ``value`` as a float, unchanged.

    Raises
    ------
    InputError
        If ``value`` is outside [0, 1] (or NaN).

    Examples
    --------
    >>> check_fraction("lung_shunt_fraction", 0.08)
    0.08
    """
    if not 0.0 <= value <= 1.0:
        extra = hint or (
            " (did you pass a percentage? 8 % is 0.08)" if 1.0 < value <= 100.0 else ""
        )
        raise InputError(f"{name} is {value!r}, expected a fraction in [0, 1]{extra}")
    return float(value)


def check_positive(name: str, value: float, unit: str) -> float:
    """Return ``value`` if it is a finite number > 0, else raise :class:`InputError`.

    Parameters
    ----------
    name : str
        The field's name as the user wrote it (case-file key or argument), for the message.
    value : float
        The value to check, in ``unit``.
    unit : str
        The unit the value is expected in (``"kg"``, ``"Gy"`` ...), for the message.

    Returns
    -------
    float
        ``value`` as a float, unchanged (in ``unit``).

    Raises
    ------
    InputError
        If ``value`` is zero, negative, infinite or NaN.

    Examples
    --------
    >>> check_positive("mass_kg", 1.5, "kg")
    1.5
    """
    if not (value > 0.0 and value < float("inf")):
        raise InputError(f"{name} is {value!r} {unit}, expected a positive number of {unit}")
    return float(value)


def check_non_negative(name: str, value: float, unit: str) -> float:
    """Return ``value`` if it is a finite number >= 0, else raise :class:`InputError`.

    Parameters
    ----------
    name : str
        The field's name as the user wrote it (case-file key or argument), for the message.
    value : float
        The value to check, in ``unit``.
    unit : str
        The unit the value is expected in (``"kg"``, ``"Gy"`` ...), for the message.

    Returns
    -------
    float
        ``value`` as a float, unchanged (in ``unit``).

    Raises
    ------
    InputError
        If ``value`` is negative, infinite or NaN.

    Examples
    --------
    >>> check_non_negative("previous_dose_gy", 0.0, "Gy")
    0.0
    """
    if not (value >= 0.0 and value < float("inf")):
        raise InputError(f"{name} is {value!r} {unit}, expected a number >= 0 {unit}")
    return float(value)
