"""Structures: named boolean masks on one reference grid, with partial-voxel weights.

A :class:`Segmentation` maps structure names (``"Liver"``, ``"T1"``) to boolean
:class:`~opensirt.imaging.volume.Volume` masks that all share one grid and frame of reference.
Structures may overlap (a tumour lies inside the liver and inside its lobe). Readers for
RTSTRUCT, DICOM SEG and NIfTI label maps return this type.

Partial-voxel coverage
    A structure may also carry *fractions*: the part of each reference voxel inside it, in
    [0, 1] (a FRACTIONAL DICOM SEG). Its boolean mask is then the voxels at least half inside
    (fraction >= 0.5); its volume and its coverage of another grid (:meth:`fractions_on`, used
    by the voxel dosimetry and DVH) use the fractions themselves. Structures without fractions
    weigh each voxel of their mask 1. On coarser grids every structure gets partial-voxel
    weights through :func:`~opensirt.imaging.regrid.coverage_fraction`.

Reader warnings
    :attr:`Segmentation.warnings` holds the messages of the warnings its reader gave (ignored
    contours, empty structures), for the plan's JSON and report.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from opensirt.errors import GeometryError, InputError
from opensirt.imaging.regrid import coverage_fraction
from opensirt.imaging.volume import Volume

__all__ = ["Segmentation", "missing_structure_error"]


def missing_structure_error(name: str, available: Iterable[str], source: str = "") -> InputError:
    """The error for a structure name that is not there, listing the names that are.

    Parameters
    ----------
    name : str
        The structure name asked for (case-sensitive).
    available : iterable of str
        The names the segmentation holds; up to three close matches are suggested.
    source : str, optional
        Where the segmentation came from (a file path), named in the message; empty for none.

    Returns
    -------
    InputError
        The error to raise (not raised here), its message listing the available names.
    """
    names = list(available)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    where = f" from {source}" if source else ""
    return InputError(
        f"structure {name!r} not found in the segmentation{where}; available structures: "
        f"{', '.join(map(repr, names)) or 'none'}{hint} (names are case-sensitive; map roles "
        "to names in the case file's images.structures)"
    )


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Named boolean masks on the grid of ``reference``.

    Parameters
    ----------
    reference : Volume
        The grid (and frame of reference) every mask lies on, usually the CT; its values are
        not used.
    structures : mapping of str to Volume
        Structure name -> boolean mask on ``reference``'s grid. Names are case-sensitive.
    source : str
        Where the structures came from (a file path, ``"phantom"``), for messages.
    fractions : mapping of str to Volume
        Partial-voxel weights in [0, 1] on ``reference``'s grid for some structures (see the
        module notes); each name must also be in ``structures``.
    warnings : tuple of str
        The messages of the warnings given while reading the structures.

    Raises
    ------
    GeometryError
        If a mask or fraction map is not on ``reference``'s grid and frame.
    InputError
        If a name is empty, a mask holds values other than 0/1, or fractions are given for
        a name that is not a structure or lie outside [0, 1].

    Examples
    --------
    >>> grid = Volume(np.zeros((2, 2, 2)), spacing_mm=(2, 2, 2))
    >>> seg = Segmentation.from_label_map(grid.with_array(np.array([[[0, 1], [1, 2]]] * 2)),
    ...                                   {1: "Liver", 2: "T1"})
    >>> seg.names, seg.volume_ml("Liver")
    (('Liver', 'T1'), 0.032)
    """

    reference: Volume
    structures: Mapping[str, Volume]
    source: str = ""
    fractions: Mapping[str, Volume] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        checked: dict[str, Volume] = {}
        for name, mask in self.structures.items():
            if not isinstance(name, str) or not name.strip():
                raise InputError(f"structure name {name!r} must be a non-empty string")
            try:
                self.reference.require_same_grid(mask, f"structure {name!r} and reference")
            except GeometryError as exc:
                raise GeometryError(f"{exc} (segmentation from {self.source or 'memory'})") from exc
            array = np.asarray(mask.array)
            if array.dtype != np.bool_:
                if not np.isin(array, (0, 1)).all():
                    raise InputError(
                        f"structure {name!r} has values other than 0/1, expected a boolean mask"
                    )
                array = array.astype(bool)
            checked[name] = mask.with_array(array, units="mask", structure=name)
        object.__setattr__(self, "structures", checked)
        object.__setattr__(self, "fractions", self._checked_fractions())
        object.__setattr__(self, "warnings", tuple(str(w) for w in self.warnings))

    def _checked_fractions(self) -> dict[str, Volume]:
        checked: dict[str, Volume] = {}
        for name, weights in self.fractions.items():
            if name not in self.structures:
                raise InputError(
                    f"fractions given for {name!r}, which is not a structure of the "
                    f"segmentation{self._from()}"
                )
            self.reference.require_same_grid(weights, f"fractions of {name!r} and reference")
            array = np.asarray(weights.array, dtype=np.float64)
            if not (np.all(np.isfinite(array)) and array.min() >= 0.0 and array.max() <= 1.0):
                raise InputError(
                    f"fractions of structure {name!r}{self._from()} lie outside [0, 1] "
                    f"(min {np.nanmin(array):.3g}, max {np.nanmax(array):.3g}), expected the "
                    "part of each voxel inside the structure"
                )
            checked[name] = weights.with_array(array, units="fraction", structure=name)
        return checked

    @classmethod
    def from_fractions(
        cls,
        reference: Volume,
        fractions: Mapping[str, Volume],
        *,
        source: str = "",
        warnings: tuple[str, ...] = (),
    ) -> Segmentation:
        """Structures given by partial-voxel weights; each mask is the voxels >= half inside.

        Parameters
        ----------
        reference : Volume
            The grid (and frame of reference) of every structure.
        fractions : mapping of str to Volume
            Structure name -> part of each reference voxel inside it, in [0, 1], on
            ``reference``'s grid.
        source : str, optional
            Where the structures came from, for messages.
        warnings : tuple of str, optional
            Messages of the warnings given while reading them.

        Returns
        -------
        Segmentation
            Masks ``fraction >= 0.5``, with the fractions kept for volumes and coverage.

        Raises
        ------
        GeometryError
            If a fraction map is not on ``reference``'s grid.
        InputError
            If a fraction lies outside [0, 1] or is not finite.

        Examples
        --------
        >>> grid = Volume(np.zeros((1, 1, 3)), spacing_mm=(10, 10, 10))
        >>> seg = Segmentation.from_fractions(grid, {"T1": grid.with_array([[[0.2, 0.5, 1]]])})
        >>> seg["T1"].array.astype(int).tolist(), seg.volume_ml("T1")
        ([[[0, 1, 1]]], 1.7)
        """
        masks = {
            name: weights.with_array(np.asarray(weights.array) >= 0.5)
            for name, weights in fractions.items()
        }
        return cls(reference, masks, source=source, fractions=fractions, warnings=warnings)

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> tuple[str, ...]:
        """Structure names, in insertion order."""
        return tuple(self.structures)

    def __contains__(self, name: object) -> bool:
        return name in self.structures

    def __iter__(self) -> Iterator[str]:
        return iter(self.structures)

    def __len__(self) -> int:
        return len(self.structures)

    def __getitem__(self, name: str) -> Volume:
        return self.get(name)

    def get(self, name: str, *, allow_empty: bool = False) -> Volume:
        """The mask of ``name``.

        Parameters
        ----------
        name : str
            Structure name (case-sensitive).
        allow_empty : bool, optional
            Return an empty mask instead of raising (default False).

        Returns
        -------
        Volume
            Boolean mask on the reference grid (units ``"mask"``).

        Raises
        ------
        InputError
            If no structure has this name (the message lists the available names and close
            matches), or if it is empty and ``allow_empty`` is false.
        """
        if name not in self.structures:
            raise missing_structure_error(name, self.names, self.source)
        mask = self.structures[name]
        if not allow_empty and not mask.array.any():
            raise InputError(
                f"structure {name!r}{self._from()} is empty (no voxel inside it on the "
                f"{mask.shape} grid): check its contours cover the image slices"
            )
        return mask

    def _from(self) -> str:
        return f" from {self.source}" if self.source else ""

    def weights(self, name: str) -> Volume:
        """Part of each reference voxel inside ``name``: its fractions, else its mask as 0/1.

        Parameters
        ----------
        name : str
            Structure name (case-sensitive); an empty structure gives all zeros.

        Returns
        -------
        Volume
            float64 weights in [0, 1] on the reference grid (units ``"fraction"``).

        Raises
        ------
        InputError
            If no structure has this name.
        """
        mask = self.get(name, allow_empty=True)
        if name in self.fractions:
            return self.fractions[name]
        return mask.with_array(np.asarray(mask.array, dtype=np.float64), units="fraction")

    def volume_ml(self, name: str) -> float:
        """Volume of structure ``name`` in mL (voxel count, or sum of its fractions, x voxel
        volume).

        Parameters
        ----------
        name : str
            Structure name (case-sensitive); an empty structure has volume 0.

        Returns
        -------
        float
            The structure's volume (mL).

        Raises
        ------
        InputError
            If no structure has this name.
        """
        mask = self.get(name, allow_empty=True)
        if name in self.fractions:
            return float(np.sum(self.fractions[name].array)) * mask.voxel_volume_ml
        return float(np.count_nonzero(mask.array)) * mask.voxel_volume_ml

    def union(self, names: Iterable[str]) -> Volume:
        """Boolean mask of the voxels inside any of ``names``.

        Parameters
        ----------
        names : iterable of str
            At least one structure name; each must exist and be non-empty.

        Returns
        -------
        Volume
            Boolean mask on the reference grid (units ``"mask"``), its metadata's
            ``structure`` the names joined by ``" + "``. Partial-voxel fractions are not used.

        Raises
        ------
        InputError
            If ``names`` is empty, or a name is missing or empty.
        """
        names = list(names)
        if not names:
            raise InputError("union of no structure requested, expected at least one name")
        array = np.zeros(self.reference.shape, dtype=bool)
        for name in names:
            array |= np.asarray(self.get(name).array)
        return self.reference.with_array(array, units="mask", structure=" + ".join(names))

    def with_structures(self, structures: Mapping[str, Volume]) -> Segmentation:
        """A copy with ``structures`` added (or replaced, by name: a replaced structure loses
        its fractions).

        Parameters
        ----------
        structures : mapping of str to Volume
            Structure name -> boolean (or 0/1) mask on the reference grid.

        Returns
        -------
        Segmentation
            A new segmentation; this one is unchanged.

        Raises
        ------
        GeometryError
            If a mask is not on the reference grid.
        InputError
            If a name is empty or a mask holds values other than 0/1.
        """
        kept = {n: f for n, f in self.fractions.items() if n not in structures}
        return Segmentation(
            self.reference,
            {**self.structures, **structures},
            source=self.source,
            fractions=kept,
            warnings=self.warnings,
        )

    # ------------------------------------------------------------------ other grids
    def fractions_on(self, grid: Volume, names: Iterable[str] | None = None) -> dict[str, Volume]:
        """Fraction of each voxel of ``grid`` (e.g. the SPECT dose grid) inside each structure.

        See :func:`opensirt.imaging.regrid.coverage_fraction`; the fractions of a structure
        times the grid's voxel volume sum to the structure's volume. A structure with
        partial-voxel weights (a fractional SEG) contributes its weights, not its mask.

        Parameters
        ----------
        grid : Volume
            The (usually coarser) grid to cover, in the segmentation's frame of reference; its
            values are not used.
        names : iterable of str or None, optional
            The structures wanted; ``None`` (default) for all of them.

        Returns
        -------
        dict of str to Volume
            Structure name -> float64 fraction in [0, 1] of each ``grid`` voxel inside it
            (units ``"fraction"``).

        Raises
        ------
        InputError
            If a name is missing or its structure is empty.
        GeometryError
            If ``grid`` is in another frame of reference.
        """
        chosen = self.names if names is None else tuple(names)
        out = {}
        for name in chosen:
            mask = self.get(name)
            weights = (
                self.fractions[name].with_array(self.fractions[name].array, **mask.metadata)
                if name in self.fractions
                else mask
            )
            out[name] = coverage_fraction(weights, grid)
        return out

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_label_map(
        cls, labels: Volume, names: Mapping[int, str], *, source: str = "", **extra: Any
    ) -> Segmentation:
        """Structures from an integer label map: ``names[label]`` is the voxels equal to label.

        Labels present in the map but not in ``names`` are ignored; a name whose label is
        absent gives an empty structure.

        Parameters
        ----------
        labels : Volume
            Integer label map (float values must be whole numbers); it is also the reference
            grid.
        names : mapping of int to str
            Label value -> structure name.
        source : str, optional
            Where the label map came from (a file path), for messages.
        **extra : Any
            Metadata entries added to every structure's mask.

        Returns
        -------
        Segmentation
            One boolean mask per entry of ``names``, on the label map's grid.

        Raises
        ------
        InputError
            If the map holds non-integer values.
        """
        array = np.asarray(labels.array)
        if not np.issubdtype(array.dtype, np.integer):
            rounded = np.rint(array)
            if not np.allclose(array, rounded):
                raise InputError(
                    f"label map{' ' + source if source else ''} has non-integer values, "
                    "expected integer labels (is this an image rather than a label map?)"
                )
            array = rounded.astype(np.int64)
        structures = {
            name: labels.with_array(array == int(label), units="mask", **extra)
            for label, name in names.items()
        }
        return cls(labels, structures, source=source)
