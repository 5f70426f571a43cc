"""Images that do not fit their role, and CTs whose structures do not lie on the organs, are
refused before planning; what the readers warn about reaches the plan's JSON and PDF."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import yaml
from pydicom.dataset import Dataset
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.commands.outputs import write_plan_outputs, write_verification_outputs
from opensirt.errors import InputError
from opensirt.imaging import Volume
from opensirt.imaging.segmentation import Segmentation
from opensirt.planning import load_case
from opensirt.workflow.inputs import load_images, merge_file_warnings
from opensirt.workflow.plausibility import check_ct_structures
from opensirt.workflow.posttreatment import verify_case
from opensirt.workflow.pretreatment import plan_from_images

#: The small patient's voxel plan (GBq) with the default dose method (path-length) and the
#: soft-tissue kernel: the checks must not change it (0.11508313158047434 with the
#: kernel-mass method; with the path-length method the water kernel gave 0.11518784550212371,
#: the soft-tissue kernel adds 0.041 %).
SMALL_PATIENT_ACTIVITY_GBQ = 0.11523494291028535


def _case(small_study: Path, folder: Path, **images: Any) -> Path:
    data = yaml.safe_load((small_study / "case.yaml").read_text())
    for key in ("ct", "spect", "segmentation", "post_treatment"):
        data["images"][key] = str(small_study / data["images"][key])
    data["images"].update(images)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _changed(source: Path, target: Path, change: Callable[[Dataset], None]) -> Path:
    """A copy of the series folder ``source`` with ``change`` applied to every file."""
    shutil.copytree(source, target)
    for file in target.iterdir():
        ds = pydicom.dcmread(file)
        change(ds)
        ds.save_as(file)
    return target


def test_the_good_case_plans_as_before_without_warnings(small_study: Path) -> None:
    pre = plan_from_images(load_case(small_study / "case.yaml"))
    assert pre.prescribed.activity_gbq == pytest.approx(SMALL_PATIENT_ACTIVITY_GBQ, rel=1e-6)
    assert pre.warnings == ()


def test_spect_pointing_at_the_ct_is_refused(small_study: Path, tmp_path: Path) -> None:
    case = load_case(_case(small_study, tmp_path, spect=str(small_study / "dicom/ct")))
    with pytest.raises(InputError, match=r"(?s)no image series in .*ct' matches Modality NM"):
        load_images(case)
    ct_uid = str(pydicom.dcmread(small_study / "dicom/ct/CT_0001.dcm").SeriesInstanceUID)
    picked = {"path": str(small_study / "dicom"), "series_uid": ct_uid}
    case = load_case(_case(small_study, tmp_path, spect=picked))
    with pytest.raises(
        InputError,
        match=r"images\.spect is .*dicom, a series of Modality CT \(values in HU\), but it must "
        r"be the work-up SPECT \(Modality NM",
    ):
        load_images(case)


def test_post_treatment_pointing_at_the_ct_is_refused(small_study: Path, tmp_path: Path) -> None:
    case = load_case(_case(small_study, tmp_path, post_treatment=str(small_study / "dicom/ct")))
    with pytest.raises(InputError, match=r"matches Modality NM or PT"):
        load_images(case, post_treatment=True)


def _nuclide(code: str, meaning: str) -> Callable[[Dataset], None]:
    def change(ds: Dataset) -> None:
        item = ds.RadiopharmaceuticalInformationSequence[0].RadionuclideCodeSequence[0]
        item.CodeValue, item.CodeMeaning = code, meaning

    return change


def test_a_y90_image_as_the_work_up_spect_is_refused(small_study: Path, tmp_path: Path) -> None:
    spect = _changed(
        small_study / "dicom/maa_spect", tmp_path / "spect", _nuclide("14691008", "^90^Y")
    )
    case = load_case(_case(small_study, tmp_path, spect=str(spect)))
    with pytest.raises(InputError, match=r"a Y-90 image .* must be Tc-99m\. A post-treatment"):
        load_images(case)


def test_a_ho166_scout_is_a_work_up_image_only_for_holmium(
    small_study: Path, tmp_path: Path
) -> None:
    spect = _changed(
        small_study / "dicom/maa_spect", tmp_path / "spect", _nuclide("C1943", "^166^Holmium")
    )
    case = load_case(_case(small_study, tmp_path, spect=str(spect)))
    with pytest.raises(InputError, match=r"a Ho-166 image .* sir-spheres must be Tc-99m"):
        load_images(case)


def test_a_spect_without_its_nuclide_plans_with_a_warning(
    small_study: Path, tmp_path: Path
) -> None:
    def drop(ds: Dataset) -> None:
        del ds.RadiopharmaceuticalInformationSequence

    spect = _changed(small_study / "dicom/maa_spect", tmp_path / "spect", drop)
    pre = plan_from_images(load_case(_case(small_study, tmp_path, spect=str(spect))))
    assert pre.prescribed.activity_gbq == pytest.approx(SMALL_PATIENT_ACTIVITY_GBQ, rel=1e-6)
    text = " | ".join(pre.warnings)
    assert "does not state its radionuclide; it is taken as Tc-99m" in text
    assert "no RadiopharmaceuticalInformationSequence" in text  # the reader's own warning


def _plus_1024(ds: Dataset) -> None:
    """Stored as HU + 1024, unsigned, with the rescale tags removed."""
    values = ds.pixel_array.astype(np.int32) + 1024
    ds.PixelRepresentation = 0
    ds.PixelData = values.astype(np.uint16).tobytes()
    del ds.RescaleIntercept, ds.RescaleSlope


def _swap_rows_columns(ds: Dataset) -> None:
    ds.Rows, ds.Columns = ds.Columns, ds.Rows


def _rotate_30_degrees(ds: Dataset) -> None:
    c, s = math.cos(math.radians(30.0)), math.sin(math.radians(30.0))
    ds.ImageOrientationPatient = [c, s, 0.0, -s, c, 0.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _plus_1024,
            r"holds no air: fewer than 0\.1% of its voxels are below -500 \(lowest 24\), "
            r"expected air .* look like HU \+ 1024 .* dropped RescaleIntercept \(-1024\)",
        ),
        (
            _swap_rows_columns,
            r"structure 'Liver' does not lie on its organ .* mean CT number is -\d+ HU, expected "
            r"-100 to 250 HU .* Rows and Columns swapped",
        ),
        (
            _rotate_30_degrees,
            r"structure 'Liver' does not lie on its organ .* mean CT number is -\d+ HU, .*"
            r"ImageOrientationPatient \(rotated\)",
        ),
    ],
    ids=["hu-plus-1024", "rows-columns-swapped", "rotated-30-degrees"],
)
def test_a_ct_that_does_not_fit_its_structures_is_refused(
    small_study: Path, tmp_path: Path, change: Callable[[Dataset], None], message: str
) -> None:
    ct = _changed(small_study / "dicom/ct", tmp_path / "ct", change)
    case = load_case(_case(small_study, tmp_path, ct=str(ct)))
    with pytest.raises(InputError, match=message):
        plan_from_images(case)


def test_lungs_drawn_on_soft_tissue_are_refused(small_study: Path, tmp_path: Path) -> None:
    """The lung structure named as the liver's: its mean CT number is not lung."""
    data = yaml.safe_load((small_study / "case.yaml").read_text())
    structures = {**data["images"]["structures"], "lungs": "Spine"}
    case = load_case(_case(small_study, tmp_path, structures=structures))
    with pytest.raises(InputError, match=r"'Spine' .* expected -950 to -400 HU for aerated lung"):
        load_images(case)


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def test_reader_warnings_reach_the_json_and_pdf_of_plan_and_verification(
    small_study: Path, tmp_path: Path
) -> None:
    """A CT without rescale tags (values already in HU): planned as before, and the readers'
    warning, once for the 40 slices, is in the JSON and the PDF of the plan and of the
    verification."""

    def drop_rescale(ds: Dataset) -> None:
        del ds.RescaleIntercept, ds.RescaleSlope

    ct = _changed(small_study / "dicom/ct", tmp_path / "ct", drop_rescale)
    case_path = _case(small_study, tmp_path, ct=str(ct))
    case = load_case(case_path)
    pre = plan_from_images(case)
    assert pre.prescribed.activity_gbq == pytest.approx(SMALL_PATIENT_ACTIVITY_GBQ, rel=1e-6)
    rescale = [w for w in pre.warnings if "no RescaleSlope/RescaleIntercept" in w]
    assert len(rescale) == 1
    assert rescale[0].endswith("(and 39 other files)")
    created = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    write_plan_outputs(tmp_path / "plan", case, case_path, pre.prescribed, created=created, pre=pre)
    result = verify_case(case, pre=pre)
    write_verification_outputs(tmp_path / "verification", result, case_path, created=created)
    for name in ("plan/plan", "verification/verification"):
        data = json.loads((tmp_path / f"{name}.json").read_text())
        assert rescale[0] in data["warnings"], name
    for name in ("plan/plan", "verification/verification"):
        assert "no RescaleSlope/RescaleIntercept" in _pdf_text(tmp_path / f"{name}.pdf"), name


def test_per_file_warnings_are_merged() -> None:
    messages = [
        "/d/ct/CT_0001.dcm: no RescaleSlope",
        "/d/ct/CT_0002.dcm: no RescaleSlope",
        "/d/ct/CT_0002.dcm: no RescaleSlope",
        "lung shunt above 10 %",
        "/d/nm.dcm: no RescaleSlope and more",
    ]
    assert merge_file_warnings(messages) == [
        "/d/ct/CT_0001.dcm: no RescaleSlope (and 1 other file)",
        "lung shunt above 10 %",
        "/d/nm.dcm: no RescaleSlope and more",
    ]


def _torso(liver_from: int) -> tuple[Volume, Segmentation]:
    """A CT slab: air, a body of 40 HU with lungs of -800 HU, and a liver from column
    ``liver_from`` to the right edge of the body."""
    hu = np.full((4, 20, 20), -1000.0)
    hu[:, 2:18, 2:18] = 40.0
    hu[:, 4:8, 4:16] = -800.0
    ct = Volume(hu, spacing_mm=(2.0, 2.0, 2.0), units="HU")
    liver = np.zeros(hu.shape, dtype=bool)
    liver[:, 10:16, liver_from:18] = True
    lungs = hu == -800.0
    return ct, Segmentation(ct, {"Liver": ct.with_array(liver), "Lungs": ct.with_array(lungs)})


def test_a_structure_at_the_edge_of_the_ct_is_warned_about() -> None:
    ct, seg = _torso(liver_from=8)
    names: dict[str, Any] = {"liver": "Liver", "lungs": "Lungs", "territories": (), "tumours": ()}
    assert check_ct_structures(ct, seg, Path("ct"), **names) == []
    wide = np.asarray(ct.array).copy()
    wide[:, 2:18, 18:] = 40.0
    cut = ct.with_array(wide)  # the body runs off the image: a narrow field of view
    liver = np.zeros(wide.shape, dtype=bool)
    liver[:, 10:16, 8:] = True
    seg = Segmentation(cut, {"Liver": cut.with_array(liver), "Lungs": seg["Lungs"]})
    warnings = check_ct_structures(cut, seg, Path("ct"), **names)
    assert len(warnings) == 1
    assert "structure 'Liver' reaches the edge of the CT image ct" in warnings[0]


def test_a_tumour_half_outside_the_body_is_refused() -> None:
    ct, seg = _torso(liver_from=8)
    tumour = np.zeros(ct.shape, dtype=bool)
    tumour[:, 12:14, 16:20] = True  # two columns in the body, two in the air beside it
    seg = seg.with_structures({"T1": ct.with_array(tumour)})
    with pytest.raises(InputError, match=r"'T1' .* only 50% of it lies on tissue"):
        check_ct_structures(
            ct, seg, Path("ct"), liver="Liver", lungs="Lungs", territories=(), tumours=("T1",)
        )


def test_the_cli_refuses_a_ct_as_spect_with_exit_2(small_study: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["plan", str(_case(small_study, tmp_path, spect=str(small_study / "dicom/ct"))), "--json"],
    )
    assert result.exit_code == 2, result.output
    assert "matches Modality NM" in result.output
