"""What an RT Dose references: the CT slices it was computed on and the RT Structure Set, with
the structures' dose-volume histograms (RT DVH module).

* Referenced Image Sequence (General Image module, PS3.3 C.7.6.1) names every planning CT
  slice.
* Referenced Structure Set Sequence and DVH Sequence (RT DVH module, PS3.3 C.8.8.4): one
  cumulative DVH per ROI of the structure set, dose bins of equal width in Gy, volumes in
  cm3 (Dose Scaling 1). A viewer (3D Slicer with SlicerRT) follows RT Dose -> RT Structure
  Set -> CT series through these references.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.errors import InputError

#: Number of equal-width dose bins of each exported DVH.
DVH_BINS = 200


@dataclass(frozen=True)
class DoseLinks:
    """The objects an RT Dose references.

    Parameters
    ----------
    ct_slices : sequence of pydicom.dataset.Dataset
        The planning CT's slice headers.
    structure_set : pydicom.dataset.Dataset
        The RT Structure Set of the plan (ROIs numbered as written).
    dvhs : mapping of str to DoseVolumeHistogram
        DVH per structure name; names that are not ROIs of ``structure_set`` are left out.

    Raises
    ------
    InputError
        If ``ct_slices`` is empty or ``structure_set`` is not an RT Structure Set.
    """

    ct_slices: Sequence[Dataset]
    structure_set: Dataset
    dvhs: Mapping[str, DoseVolumeHistogram]

    def __post_init__(self) -> None:
        if not self.ct_slices:
            raise InputError("DoseLinks.ct_slices is empty; pass the planning CT's slices")
        if str(self.structure_set.get("Modality", "")) != "RTSTRUCT":
            raise InputError(
                f"DoseLinks.structure_set has Modality {self.structure_set.get('Modality')!r}, "
                "expected RTSTRUCT"
            )


def _reference(ds: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    return item


def cumulative_bins(dvh: DoseVolumeHistogram, bins: int = DVH_BINS) -> npt.NDArray[np.float64]:
    """A cumulative DVH as DVH Data: pairs (bin width Gy, volume cm3 receiving >= bin start).

    Parameters
    ----------
    dvh : DoseVolumeHistogram
        The structure's exact cumulative DVH.
    bins : int, optional
        Number of equal-width bins from 0 to the highest voxel dose (default
        :data:`DVH_BINS`).

    Returns
    -------
    numpy.ndarray
        ``2 * bins`` values, width and volume alternating (PS3.3 C.8.8.4.4).

    Examples
    --------
    Half of 10 mL at 20 Gy, half at 10 Gy, in 4 bins of 5 Gy: all of it gets >= 0, 5 and
    10 Gy, half of it >= 15 Gy.

    >>> import numpy as np
    >>> from opensirt.dosimetry.dvh import DoseVolumeHistogram
    >>> dvh = DoseVolumeHistogram("t", np.array([20.0, 10.0]), np.array([0.5, 1.0]), 10.0,
    ...                           15.0, 10.0, 20.0)
    >>> cumulative_bins(dvh, bins=4).reshape(-1, 2)[:, 1].tolist()
    [10.0, 10.0, 10.0, 5.0]
    """
    doses = np.asarray(dvh.doses_gy, dtype=np.float64)[::-1]  # increasing
    fraction = np.asarray(dvh.cumulative_fraction, dtype=np.float64)[::-1]  # decreasing
    top = float(doses[-1]) if doses.size else 0.0
    width = top / bins if top > 0 else 1.0
    starts = np.arange(bins) * width
    index = np.searchsorted(doses, starts, side="left")
    at_least = np.where(index < doses.size, fraction[np.minimum(index, doses.size - 1)], 0.0)
    volume = at_least * dvh.volume_ml
    return np.column_stack([np.full(bins, width), volume]).reshape(-1)


def _ds(value: float) -> str:
    return f"{value:.6g}"


def _dvh_item(roi_number: int, dvh: DoseVolumeHistogram) -> Dataset:
    roi = Dataset()
    roi.ReferencedROINumber = roi_number
    roi.DVHROIContributionType = "INCLUDED"
    item = Dataset()
    item.DVHReferencedROISequence = DicomSequence([roi])
    item.DVHType = "CUMULATIVE"
    item.DoseUnits = "GY"
    item.DoseType = "PHYSICAL"
    item.DVHDoseScaling = "1"
    item.DVHVolumeUnits = "CM3"
    data = cumulative_bins(dvh)
    item.DVHNumberOfBins = len(data) // 2
    item.DVHData = [_ds(float(v)) for v in data]
    item.DVHMinimumDose = _ds(dvh.min_gy)
    item.DVHMaximumDose = _ds(dvh.max_gy)
    item.DVHMeanDose = _ds(dvh.mean_gy)
    return item


def add_dose_links(ds: Dataset, links: DoseLinks) -> None:
    """Add the CT, RT Structure Set and DVH references of ``links`` to an RT Dose dataset.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The RT Dose; changed in place.
    links : DoseLinks
        The CT slices, the structure set and the DVHs.
    """
    ds.ReferencedImageSequence = DicomSequence([_reference(s) for s in links.ct_slices])
    ds.ReferencedStructureSetSequence = DicomSequence([_reference(links.structure_set)])
    numbers = {
        str(roi.ROIName): int(roi.ROINumber) for roi in links.structure_set.StructureSetROISequence
    }
    items = [_dvh_item(numbers[name], dvh) for name, dvh in links.dvhs.items() if name in numbers]
    if items:
        ds.DVHSequence = DicomSequence(items)
