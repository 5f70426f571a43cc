"""The saved state of a plan from images, so that verification and assessment reuse it.

``opensirt plan --out`` writes, beside ``plan.json``, the part of a plan from images that
costs time to compute (:class:`~opensirt.workflow.pretreatment.ImageMeasurements`): the
structure occupancies and tissue density on the SPECT grid, the SPECT itself, the voxel dose
per GBq injected, and the measurements (volumes, T/N, lung shunt, extrahepatic uptake, lung
mass). With the case's work-up images read again (for their checks and for the verification,
which shares the CT and the structures), :func:`plan_from_state` gives the same
:class:`~opensirt.workflow.pretreatment.PreTreatmentResult` as
:func:`~opensirt.workflow.pretreatment.plan_from_images` without the structures' resampling,
the density map, the measurements and the kernel convolution.

File format
-----------
One compressed NumPy archive (``.npz``, no pickled objects), written atomically: the arrays
``emission``, ``density``, ``dose_per_gbq`` and ``fraction_<n>`` (one per structure, float64
occupancy in [0, 1]), and ``manifest``, a 0-d unicode array of JSON text: the format
version, each volume's geometry, the structure names and roles, the measurements, the dose
method (for Monte Carlo also ``monte_carlo``: the histories, the seed and each structure's
relative mean-dose uncertainty, since the engine's batch arrays are not kept), and a
``provenance`` record that the caller supplies (the input fingerprints, the software
versions). Reading checks the archive's size before anything is inflated, then each array's
name, shape, dtype and finiteness against the manifest; nothing in it is executed.
"""

from __future__ import annotations

import json
import operator
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import InputError
from opensirt.fileio import check_regular_file, write_atomically
from opensirt.imaging import Volume
from opensirt.physics.dose_methods import DoseMethod
from opensirt.planning.case import Case
from opensirt.workflow.dose_record import MONTE_CARLO_KEY, SavedMonteCarlo, dose_method_record
from opensirt.workflow.inputs import CaseImages, StructureRoles
from opensirt.workflow.measure import (
    ExtrahepaticUptake,
    LungShunt,
    TerritoryMeasure,
    TumourMeasure,
    WorkupMeasures,
)
from opensirt.workflow.pretreatment import (
    ImageMeasurements,
    LungMass,
    PreTreatmentResult,
    Progress,
    no_progress,
    plan_from_measurements,
)
from opensirt.workflow.voxel import DoseGrid, dvh_names

#: File name of the saved state in a plan's output folder.
PLAN_STATE_FILE = "plan_state.npz"

#: Version of the file layout; a file of another version is not read.
PLAN_STATE_FORMAT = 1

#: Largest uncompressed size (bytes) of a saved state that is read: a clinical SPECT grid
#: (128^3 voxels) with twenty structures in float64 is about 0.4 GiB.
MAX_STATE_BYTES = 2 * 2**30

_MANIFEST = "manifest"
_VOLUMES = ("emission", "density", "dose_per_gbq")
#: The dose per GBq's metadata kept in the manifest: its method (a Monte Carlo dose's record,
#: not its batch arrays, is kept beside them under ``monte_carlo``).
_DOSE_METADATA = ("method", "method_description")
_DTYPES = {
    "emission": ("float32", "float64"),
    "density": ("float32",),
    "dose_per_gbq": ("float32",),
}


def _geometry(volume: Volume) -> dict[str, Any]:
    return {
        "shape": list(volume.shape),
        "dtype": str(volume.array.dtype),
        "spacing_mm": list(volume.spacing_mm),
        "origin_mm": list(volume.origin_mm),
        "direction": list(volume.direction),
        "frame_of_reference_uid": volume.frame_of_reference_uid,
        "units": volume.units,
    }


def _measures(data: Mapping[str, Any]) -> WorkupMeasures:
    territories = tuple(
        TerritoryMeasure(
            **{**t, "tumours": tuple(TumourMeasure(**u) for u in t["tumours"])},
        )
        for t in data["territories"]
    )
    extrahepatic = tuple(
        ExtrahepaticUptake(**{**e, "centre_index_kji": tuple(e["centre_index_kji"])})
        for e in data["extrahepatic"]
    )
    return WorkupMeasures(
        liver_volume_ml=data["liver_volume_ml"],
        lung_volume_ml=data["lung_volume_ml"],
        lung_shunt=LungShunt(**data["lung_shunt"]),
        territories=territories,
        extrahepatic=extrahepatic,
        warnings=tuple(data["warnings"]),
    )


def _dose_method(pre: PreTreatmentResult) -> dict[str, Any]:
    """The manifest's ``dose_method``: the dose's method and, for Monte Carlo, its record."""
    out: dict[str, Any] = {k: pre.dose_per_gbq.metadata.get(k) for k in _DOSE_METADATA}
    if out["method"] != DoseMethod.MONTE_CARLO.value:
        return out
    names = dvh_names(pre.grid, pre.grid.roles.territories)
    record = dose_method_record(pre.dose_per_gbq, pre.grid.fractions, names)
    if record.histories is not None and record.seed is not None:
        out[MONTE_CARLO_KEY] = {
            "histories": record.histories,
            "seed": record.seed,
            "uncertainty_percent": dict(record.uncertainty_percent),
        }
    return out


def _restored_dose(dose: Volume, method: Mapping[str, Any]) -> Volume:
    """The saved dose per GBq with its method (and Monte Carlo record) in its metadata."""
    meta: dict[str, Any] = {k: method[k] for k in _DOSE_METADATA if method.get(k) is not None}
    saved = method.get(MONTE_CARLO_KEY)
    if saved is not None:
        uncertainty = {
            str(name): None if value is None else float(value)
            for name, value in dict(saved["uncertainty_percent"]).items()
        }
        meta[MONTE_CARLO_KEY] = SavedMonteCarlo(
            operator.index(saved["histories"]), operator.index(saved["seed"]), uncertainty
        )
    return dose.with_array(dose.array, **meta)


def write_plan_state(path: Path, pre: PreTreatmentResult, provenance: Mapping[str, Any]) -> Path:
    """Save what :func:`plan_from_state` needs of ``pre`` at ``path``, atomically.

    Parameters
    ----------
    path : Path
        The file to write (``.npz``; :data:`PLAN_STATE_FILE` in a plan's folder).
    pre : PreTreatmentResult
        A plan from images.
    provenance : mapping
        JSON-ready record of what the plan was made from (input fingerprints, software
        versions), stored as it is and given back by :func:`read_plan_state`.

    Returns
    -------
    Path
        ``path``.
    """
    grid = pre.grid
    names = list(grid.fractions)
    roles = grid.roles
    manifest = {
        "format": PLAN_STATE_FORMAT,
        "volumes": {
            "emission": _geometry(grid.emission),
            "density": _geometry(grid.density),
            "dose_per_gbq": _geometry(pre.dose_per_gbq),
        },
        "fractions": names,
        "roles": {
            "liver": roles.liver,
            "lungs": roles.lungs,
            "tumours": list(roles.tumours),
            "territories": dict(roles.territories),
        },
        "measures": asdict(pre.measures),
        "lung_mass": {"kg": pre.lung_mass_kg, "source": pre.lung_mass_source},
        "grid_warnings": list(pre.grid_warnings),
        "dose_method": _dose_method(pre),
        "provenance": dict(provenance),
    }
    arrays: dict[str, npt.NDArray[Any]] = {
        "emission": np.asarray(grid.emission.array),
        "density": np.asarray(grid.density.array),
        "dose_per_gbq": np.asarray(pre.dose_per_gbq.array),
        _MANIFEST: np.array(json.dumps(manifest, allow_nan=False)),
    }
    for n, name in enumerate(names):
        arrays[f"fraction_{n}"] = np.asarray(grid.fractions[name], dtype=np.float64)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez_compressed(handle, allow_pickle=False, **arrays)

    return write_atomically(path, write)


@dataclass(frozen=True, eq=False)
class PlanState:
    """A saved plan state, read and checked.

    Attributes
    ----------
    measured : ImageMeasurements
        The grid, the measurements, the lung mass and the dose per GBq of the saved plan.
    provenance : mapping
        The record given to :func:`write_plan_state` (input fingerprints, software versions).
    """

    measured: ImageMeasurements
    provenance: Mapping[str, Any]


def _bad(path: Path, what: str) -> InputError:
    return InputError(
        f"{path}: the saved plan state {what}; delete it, or write it again with "
        "`opensirt plan CASE --out FOLDER`"
    )


def _checked_size(path: Path) -> None:
    check_regular_file(path, "saved plan state")
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(path, f"is not a NumPy archive ({exc})") from None
    if total > MAX_STATE_BYTES:
        raise _bad(path, f"would inflate to {total} bytes, more than the {MAX_STATE_BYTES} allowed")


def _array(
    path: Path, arrays: Mapping[str, npt.NDArray[Any]], key: str, shape: list[int], dtypes: Any
) -> npt.NDArray[Any]:
    if key not in arrays:
        raise _bad(path, f"has no array {key!r}")
    array = arrays[key]
    if list(array.shape) != shape or str(array.dtype) not in dtypes:
        raise _bad(
            path,
            f"array {key!r} is {array.dtype} {list(array.shape)}, expected {'/'.join(dtypes)} "
            f"{shape}",
        )
    if not np.all(np.isfinite(array)):
        raise _bad(path, f"array {key!r} holds non-finite values")
    return array


def read_plan_state(path: Path) -> PlanState:
    """Read a file of :func:`write_plan_state`, checking it before it is used.

    Parameters
    ----------
    path : Path
        The saved state (:data:`PLAN_STATE_FILE`).

    Returns
    -------
    PlanState
        Its grid, measurements, dose per GBq and provenance record.

    Raises
    ------
    InputError
        When the file is not a regular file, not an archive of this format, larger than
        :data:`MAX_STATE_BYTES` inflated, or an array's name, shape, dtype or values differ
        from what its manifest says; the message names the file and the fix.
    """
    _checked_size(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        manifest = json.loads(str(arrays[_MANIFEST][()]))
        if not isinstance(manifest, dict) or manifest.get("format") != PLAN_STATE_FORMAT:
            raise _bad(path, f"is not of format {PLAN_STATE_FORMAT}")
        volumes = {}
        for key in _VOLUMES:
            g = manifest["volumes"][key]
            array = _array(path, arrays, key, g["shape"], _DTYPES[key])
            volumes[key] = Volume(
                array,
                spacing_mm=tuple(g["spacing_mm"]),
                origin_mm=tuple(g["origin_mm"]),
                direction=tuple(g["direction"]),
                frame_of_reference_uid=g["frame_of_reference_uid"],
                units=str(g["units"]),
            )
        method = manifest.get("dose_method") or {}  # absent in states of older versions
        volumes["dose_per_gbq"] = _restored_dose(volumes["dose_per_gbq"], method)
        shape = list(volumes["emission"].shape)
        fractions = {
            str(name): _array(path, arrays, f"fraction_{n}", shape, ("float64",))
            for n, name in enumerate(manifest["fractions"])
        }
        r = manifest["roles"]
        roles = StructureRoles(r["liver"], r["lungs"], tuple(r["tumours"]), r["territories"])
        measured = ImageMeasurements(
            grid=DoseGrid(volumes["emission"], volumes["density"], fractions, roles),
            measures=_measures(manifest["measures"]),
            lung_mass=LungMass(float(manifest["lung_mass"]["kg"]), manifest["lung_mass"]["source"]),
            grid_warnings=tuple(manifest["grid_warnings"]),
            dose_per_gbq=volumes["dose_per_gbq"],
        )
        return PlanState(measured, manifest["provenance"])
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, zipfile.BadZipFile) as exc:
        raise _bad(path, f"is damaged or of another layout ({type(exc).__name__}: {exc})") from None


def plan_from_state(
    case: Case, images: CaseImages, state: PlanState, *, progress: Progress = no_progress
) -> PreTreatmentResult:
    """The plan of ``case`` from a saved state instead of the image pipeline.

    The caller checks first that the state was saved from the same inputs and software
    (its ``provenance``); this function checks that its structures are the case's.

    Parameters
    ----------
    case : Case
        The case file as read.
    images : CaseImages
        Its work-up images, read again.
    state : PlanState
        The saved state (:func:`read_plan_state`).
    progress : callable, optional
        Called with the name of each step as it starts (default: says nothing).

    Returns
    -------
    PreTreatmentResult
        The same plan as :func:`~opensirt.workflow.pretreatment.plan_from_images` gives.

    Raises
    ------
    InputError
        When the saved structure roles or grid differ from the case's images.
    """
    grid = state.measured.grid
    if grid.roles != images.roles or grid.emission.shape != images.emission.shape:
        raise InputError(
            "the saved plan state's structures or SPECT grid differ from the case's images; "
            "plan the case again with `opensirt plan CASE --out FOLDER`"
        )
    return plan_from_measurements(case, images, state.measured, progress=progress)
