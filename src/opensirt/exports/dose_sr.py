"""The administered activity and the absorbed doses per structure as a DICOM Structured Report.

Template: **TID 1500 Measurement Report** (PS3.16), in a Comprehensive 3D SR written with
highdicom (Herrmann et al. 2022, J Digit Imaging 35:1719, doi:10.1007/s10278-022-00683-y).

Why TID 1500 and not TID 10021 (Radiopharmaceutical Radiation Dose, the RRDSR):

* TID 10021 records a *diagnostic* radiopharmaceutical administration event (TID 10022:
  dispensing, start and stop times, route, syringe counts) with organ doses estimated from
  reference phantoms and biokinetic models (TID 10023, ICRP/MIRD S values). A SIRT plan's
  doses are patient-specific voxel doses over the patient's own structures, which TID 10023
  cannot reference; and the plan is written before the administration exists.
* TID 1500 carries one Volumetric ROI group (TID 1411) per structure whose measurements
  reference the SEG segment they were computed over, which is what a reader (3D Slicer's
  Quantitative Reporting, highdicom) needs to show "mean dose in this segment". highdicom
  writes and reads it natively, so every object is validated on write and read back in tests.

Content: the procedure reported is SCT 440252007 "Administration of radiopharmaceutical";
one TID 1501 group holds the activity, DCM 113507 "Administered activity" in UCUM ``MBq``
(the unit TID 10022 uses for the same concept); one TID 1411 group per structure of the SEG
holds DCM 128513 "Absorbed Dose" in UCUM ``Gy`` with the derivations SCT 373098007 Mean,
SCT 255605001 Minimum and SCT 56851009 Maximum (CID 7464), and SCT 118565006 "Volume" in
UCUM ``mL``. For a plan, the activity is the prescribed one (tracking identifier "planned
activity"); for a verification, the delivered one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.errors import InputError
from opensirt.imaging.dicom_common import MANUFACTURER

if TYPE_CHECKING:  # highdicom is imported where it is used (it is slow to import)
    import highdicom as hd

#: Series number of the exported report.
SR_SERIES = 9005
#: UCUM millilitre (Schadow and McDonald, The Unified Code for Units of Measure, ucum.org).
MILLILITRE = Code("mL", "UCUM", "milliliter")
_MBQ_PER_GBQ = 1000.0


@dataclass(frozen=True)
class ActivityRecord:
    """The activity a dose report states.

    Parameters
    ----------
    activity_gbq : float
        The activity (GBq), > 0.
    label : str
        What it is: ``"planned activity"`` or ``"delivered activity"`` (the tracking
        identifier of its measurement group).

    Raises
    ------
    InputError
        If the activity is not a positive finite number.
    """

    activity_gbq: float
    label: str

    def __post_init__(self) -> None:
        if not 0.0 < self.activity_gbq < float("inf"):
            raise InputError(
                f"activity_gbq is {self.activity_gbq!r}, expected a positive activity in GBq"
            )


def _tracking(identifier: str) -> hd.sr.TrackingIdentifier:
    import highdicom as hd

    return hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=identifier[:64])


def _activity_group(activity: ActivityRecord) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    import highdicom as hd

    measurement = hd.sr.Measurement(
        name=codes.DCM.AdministeredActivity,
        value=activity.activity_gbq * _MBQ_PER_GBQ,
        unit=codes.UCUM.Megabecquerel,
    )
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(activity.label), measurements=[measurement]
    )


def _dose_group(
    seg: Dataset, number: int, name: str, dvh: DoseVolumeHistogram
) -> hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations:
    import highdicom as hd

    statistics = [
        (codes.SCT.Mean, dvh.mean_gy),
        (codes.SCT.Minimum, dvh.min_gy),
        (codes.SCT.Maximum, dvh.max_gy),
    ]
    measurements = [
        hd.sr.Measurement(
            name=codes.DCM.AbsorbedDose, value=value, unit=codes.UCUM.Gy, derivation=derivation
        )
        for derivation, value in statistics
    ]
    measurements.append(
        hd.sr.Measurement(name=codes.SCT.Volume, value=dvh.volume_ml, unit=MILLILITRE)
    )
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(name),
        referenced_segment=hd.sr.ReferencedSegment.from_segmentation(seg, number),
        measurements=measurements,
    )


def build_dose_sr(
    seg: Dataset,
    ct_slices: Sequence[Dataset],
    dvhs: Mapping[str, DoseVolumeHistogram],
    activity: ActivityRecord,
    *,
    description: str,
) -> Dataset:
    """The TID 1500 dose report of a plan or a verification, referencing its SEG and CT.

    Parameters
    ----------
    seg : pydicom.dataset.Dataset
        The SEG of the structures (:func:`opensirt.exports.structures.build_seg`).
    ct_slices : sequence of pydicom.dataset.Dataset
        The planning CT's slice headers (the SEG's source images).
    dvhs : mapping of str to DoseVolumeHistogram
        DVH per structure name; structures without a SEG segment are left out.
    activity : ActivityRecord
        The planned or delivered activity.
    description : str
        Series Description (cut to 64 characters).

    Returns
    -------
    pydicom.dataset.Dataset
        The Comprehensive 3D SR, patient and study copied from the CT by highdicom.

    Raises
    ------
    InputError
        If no structure of ``dvhs`` is a segment of ``seg``.
    """
    import highdicom as hd

    numbers = {str(s.SegmentLabel): int(s.SegmentNumber) for s in seg.SegmentSequence}
    groups = [
        _dose_group(seg, numbers[name], name, dvh) for name, dvh in dvhs.items() if name in numbers
    ]
    if not groups:
        raise InputError(
            f"no DVH structure ({', '.join(dvhs)}) is a segment of the SEG "
            f"({', '.join(numbers)}); export the dose report with the plan's own SEG"
        )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(), name="OpenSIRT", manufacturer_name=MANUFACTURER
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.AdministrationOfRadiopharmaceutical,
        imaging_measurements=[_activity_group(activity), *groups],
        title=codes.DCM.ImagingMeasurementReport,
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=[seg, *ct_slices],
        content=report,
        series_instance_uid=generate_uid(),
        series_number=SR_SERIES,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
    )
    sr.SeriesDescription = description[:64]
    ds: Dataset = sr
    return ds
