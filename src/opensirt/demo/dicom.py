"""The synthetic patient written as DICOM: CT, MAA SPECT, Y-90 PET, RTSTRUCT and SEG.

One study and one frame of reference, in the folders the demo case file names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from opensirt._threads import limited_threads
from opensirt.demo.phantom import SyntheticPatient
from opensirt.imaging.dicom_common import save_dataset
from opensirt.imaging.dicom_write import ct_datasets, nm_dataset, pet_datasets, write_series


@dataclass(frozen=True)
class PhantomDicomPaths:
    """Where :func:`write_phantom_dicom` put each object (the case file's ``images`` keys)."""

    ct_dir: Path
    spect_file: Path
    pet_dir: Path
    rtstruct_file: Path
    seg_file: Path


@limited_threads()
def write_phantom_dicom(
    phantom: SyntheticPatient, outdir: str | os.PathLike[str]
) -> PhantomDicomPaths:
    """Write the synthetic patient as DICOM: ``ct/``, ``maa_spect/``, ``y90_pet/``,
    ``rtstruct.dcm`` and ``seg.dcm`` under ``outdir`` (one study, one frame of reference).

    Parameters
    ----------
    phantom : SyntheticPatient
        The synthetic patient: CT, MAA SPECT, Y-90 PET, structures and DICOM context.
    outdir : str | os.PathLike[str]
        The folder to write into (created if missing).

    Returns
    -------
    PhantomDicomPaths
        The paths of the written CT and PET folders and SPECT, RTSTRUCT and SEG files.
    """
    from opensirt.imaging.dicom_seg import seg_dataset
    from opensirt.imaging.rtstruct import rtstruct_dataset

    root = Path(outdir)
    context = phantom.context
    ct = ct_datasets(phantom.ct, context, acquired=phantom.maa.acquisition_datetime)
    write_series(ct, root / "ct", "CT")
    maa = phantom.maa
    nm = nm_dataset(
        maa.image,
        context,
        maa.radiopharmaceutical,
        acquired=maa.acquisition_datetime,
        duration_s=maa.acquisition_duration_s,
    )
    spect_file = save_dataset(nm, root / "maa_spect" / "NM_0001.dcm")
    pet = phantom.pet
    pt = pet_datasets(
        pet.image,
        context,
        pet.radiopharmaceutical,
        acquired=pet.acquisition_datetime,
        duration_s=pet.acquisition_duration_s,
    )
    write_series(pt, root / "y90_pet", "PT")
    types = {
        name: "GTV" if kind == "tumour" else "ORGAN"
        for name, kind in phantom.structure_kinds.items()
    }
    types["Body"] = "EXTERNAL"
    rtstruct = save_dataset(
        rtstruct_dataset(phantom.structures, ct, context, interpreted_types=types),
        root / "rtstruct.dcm",
    )
    seg = save_dataset(
        seg_dataset(phantom.structures, ct, context, kinds=phantom.structure_kinds),
        root / "seg.dcm",
    )
    return PhantomDicomPaths(root / "ct", spect_file, root / "y90_pet", rtstruct, seg)
