"""DICOM as a PACS exports it: many series of two studies in one folder, a DICOMDIR, a zip;
picking a series by UID or by modality and description, and planning from such an export."""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pydicom
import pytest
import yaml
from pydicom.fileset import FileSet

from opensirt.demo.dicom import write_phantom_dicom
from opensirt.demo.phantom import make_phantom
from opensirt.errors import ImageReadError, InputError
from opensirt.imaging import list_series, read_image
from opensirt.imaging.dicom_series import choose_series, dicom_source
from opensirt.planning import load_case
from opensirt.workflow.pretreatment import plan_from_images


@pytest.fixture(scope="module")
def export(small_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One flat folder with every series of the work-up study and of an earlier study
    (another patient's seed, descriptions prefixed 'Earlier', dated 2025)."""
    folder = tmp_path_factory.mktemp("export") / "pacs"
    folder.mkdir()
    for n, file in enumerate(sorted((small_study / "dicom").rglob("*.dcm"))):
        shutil.copy(file, folder / f"A{n:04d}.dcm")
    earlier = write_phantom_dicom(make_phantom(seed=8, size=0.4), folder.parent / "earlier")
    for n, file in enumerate(sorted(earlier.ct_dir.parent.rglob("*.dcm"))):
        ds = pydicom.dcmread(file)
        ds.SeriesDescription = f"Earlier {ds.get('SeriesDescription', '')}"
        ds.StudyDate = ds.SeriesDate = "20250301"
        ds.save_as(folder / f"B{n:04d}.dcm")
    return folder


@pytest.fixture(scope="module")
def export_zip(export: Path) -> Path:
    archive = export.parent / "pacs.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(export.iterdir()):
            zf.write(file, f"export/{file.name}")
    return archive


def _uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)


def _case(small_study: Path, folder: Path, images: dict[str, Any]) -> Path:
    """The demo case with ``images`` entries replaced, written in ``folder``."""
    data = yaml.safe_load((small_study / "case.yaml").read_text())
    for key in ("ct", "spect", "segmentation", "post_treatment"):
        data["images"][key] = str(small_study / data["images"][key])
    data["images"].update(images)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_export_lists_every_series_with_its_date(export: Path) -> None:
    series = list_series(export)
    assert sorted(s.modality for s in series) == sorted(["CT", "NM", "PT", "RTSTRUCT", "SEG"] * 2)
    dates = {s.description: s.date for s in series}
    assert dates["CT abdomen (synthetic)"] == "2026-11-18"
    assert dates["Earlier CT abdomen (synthetic)"] == "2025-03-01"
    assert {s.n_files for s in series if s.modality == "CT"} == {40}


def test_series_picked_by_uid_or_by_modality_and_description(
    export: Path, small_study: Path
) -> None:
    spect_uid = _uid(small_study / "dicom/maa_spect/NM_0001.dcm")
    by_uid = read_image(export, series_uid=spect_uid)
    by_description = read_image(export, modality="nm", description="tc-99m maa*")
    assert by_uid.metadata["series_instance_uid"] == spect_uid
    assert by_description.metadata["series_instance_uid"] == spect_uid
    # a substring matches both studies' SPECT: ambiguous, and the message lists them all
    with pytest.raises(ImageReadError, match=r"holds 2 image series that match") as caught:
        read_image(export, modality="NM", description="maa")
    text = str(caught.value)
    assert text.count("\n  - ") == 10
    assert "Earlier Tc-99m MAA SPECT (synthetic), 1 file, 2025-03-01" in text
    assert f"{spect_uid} (NM, Tc-99m MAA SPECT (synthetic), 1 file, 2026-11-18)" in text


def test_choosing_nothing_in_an_export_lists_the_series_and_the_key(
    export: Path, small_study: Path, tmp_path: Path
) -> None:
    case = load_case(_case(small_study, tmp_path, {"spect": str(export)}))
    with pytest.raises(ImageReadError) as caught:
        plan_from_images(case)
    text = str(caught.value)
    assert "holds 2 image series that match Modality NM" in text
    assert "(PT, Y-90 resin microspheres PET (synthetic), 31 files, 2026-11-26)" in text
    assert f"images.spect: {{path: {export}, series_uid: <SeriesInstanceUID>}}" in text
    assert "modality: NM, description:" in text


def test_plans_from_an_export_by_uid_and_by_description_as_from_the_folders(
    export: Path, export_zip: Path, small_study: Path, tmp_path: Path
) -> None:
    reference = plan_from_images(load_case(small_study / "case.yaml")).prescribed.activity_gbq
    by_uid = {
        "ct": {"path": str(export), "series_uid": _uid(small_study / "dicom/ct/CT_0001.dcm")},
        "spect": {
            "path": str(export),
            "series_uid": _uid(small_study / "dicom/maa_spect/NM_0001.dcm"),
        },
        "segmentation": {
            "path": str(export),
            "series_uid": _uid(small_study / "dicom/rtstruct.dcm"),
        },
    }
    by_description = {
        "ct": {"path": str(export_zip), "modality": "CT", "description": "CT abdomen*"},
        "spect": {"path": str(export_zip), "modality": "NM", "description": "tc-99m*"},
        "segmentation": {"path": str(export_zip), "modality": "RTSTRUCT", "description": "str*"},
    }
    for n, images in enumerate((by_uid, by_description)):
        folder = tmp_path / str(n)
        folder.mkdir()
        plan = plan_from_images(load_case(_case(small_study, folder, images)))
        assert plan.prescribed.activity_gbq == pytest.approx(reference, rel=1e-9)
        assert plan.warnings == ()


def test_dicomdir_references_are_read(small_study: Path, tmp_path: Path) -> None:
    fileset = FileSet()
    for file in sorted((small_study / "dicom").rglob("*.dcm")):
        fileset.add(pydicom.dcmread(file))
    fileset.write(tmp_path / "media")
    (tmp_path / "media" / "stray.dcm").write_bytes(
        (small_study / "dicom/rtstruct.dcm").read_bytes()
    )
    series = list_series(tmp_path / "media")  # through the DICOMDIR: the stray file is unseen
    assert sorted(s.n_files for s in series) == [1, 1, 1, 31, 40]
    assert all("stray" not in str(p) for s in series for p in s.paths)
    direct = read_image(small_study / "dicom/ct")
    for where in (tmp_path / "media", tmp_path / "media" / "DICOMDIR"):
        ct = read_image(where, modality="CT")
        assert ct.same_grid(direct)
        assert (ct.array == direct.array).all()


def test_dicomdir_with_missing_files_is_named(small_study: Path, tmp_path: Path) -> None:
    fileset = FileSet()
    fileset.add(pydicom.dcmread(small_study / "dicom/rtstruct.dcm"))
    fileset.write(tmp_path / "media")
    for file in (tmp_path / "media").rglob("*"):
        if file.is_file() and file.name != "DICOMDIR":
            file.unlink()
    with pytest.raises(ImageReadError, match=r"DICOMDIR: references 1 file\(s\) that are not"):
        list_series(tmp_path / "media")


def test_truncated_dicomdir_is_refused(small_study: Path, tmp_path: Path) -> None:
    """pydicom reads a truncated DICOMDIR without complaint: the CT lost its last slices and
    planned with a contour warning only (found by a hostile test)."""
    fileset = FileSet()
    for file in sorted((small_study / "dicom").rglob("*.dcm")):
        fileset.add(pydicom.dcmread(file))
    fileset.write(tmp_path / "media")
    dicomdir = tmp_path / "media" / "DICOMDIR"
    assert sorted(s.n_files for s in list_series(dicomdir)) == [1, 1, 1, 31, 40]
    data = dicomdir.read_bytes()
    dicomdir.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"DICOMDIR: a directory record points to byte"):
        list_series(tmp_path / "media")


def test_zip_is_read_and_its_folder_removed(
    export_zip: Path, small_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "with_notes.zip"
    shutil.copy(export_zip, archive)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("export/README.txt", "not DICOM")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    with pytest.warns(UserWarning, match=r"with_notes\.zip!: skipped 1 file\(s\) that are not"):
        ct = read_image(archive, modality="CT", description="ct abdomen*")
    assert ct.same_grid(read_image(small_study / "dicom/ct"))
    assert list((tmp_path / "tmp").iterdir()) == []


def _zip_with(path: Path, name: str, data: bytes = b"x", *, mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    ("name", "mode", "message"),
    [
        ("../evil.dcm", None, r"absolute path or '\.\.'"),
        ("a/../../evil.dcm", None, r"absolute path or '\.\.'"),
        ("/etc/evil.dcm", None, r"absolute path or '\.\.'"),
        ("..\\evil.dcm", None, r"absolute path or '\.\.'"),
        ("link.dcm", stat.S_IFLNK | 0o777, "symbolic link"),
    ],
)
def test_zip_escaping_its_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, mode: int | None, message: str
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    archive = _zip_with(tmp_path / "bad.zip", name, b"/etc/passwd", mode=mode)
    with pytest.raises(ImageReadError, match=message):
        read_image(archive)
    assert not (tmp_path / "evil.dcm").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.dcm", bytes(8 * 1024**2))  # 8 MiB of zeros: about 8 kB packed
    assert archive.stat().st_size < 100_000
    with (
        pytest.raises(ImageReadError, match=r"expands to 8 MB, more than the 1 MB accepted"),
        dicom_source(archive, max_uncompressed_bytes=1_000_000),
    ):
        pytest.fail("a zip beyond the bound was opened")
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for n in range(12):
            zf.writestr(f"f{n}.dcm", b"")
    with (
        pytest.raises(ImageReadError, match="12 members, more than the 10 accepted"),
        dicom_source(many, max_members=10),
    ):
        pytest.fail("a zip beyond the bound was opened")


def test_not_a_zip_nor_dicom_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImageReadError, match=r"broken\.zip: not a DICOM file"):
        read_image(tmp_path / "broken.zip")


def test_choose_series_messages(export: Path) -> None:
    series = list_series(export)
    with pytest.raises(ImageReadError, match=r"no series in .* matches modality='RTSTRUCT', "):
        choose_series(export, series, modality="RTSTRUCT", description="nothing like it")
    chosen = choose_series(export, series, modality="RTSTRUCT", description="earlier struct*")
    assert chosen.description == "Earlier Structures"
    with pytest.raises(InputError, match=r"(?s)holds 2 image series.*pick one with series_uid="):
        choose_series(export, series, modality="CT")


def test_messages_name_the_zip_not_its_temporary_folder(
    export_zip: Path, small_study: Path, tmp_path: Path
) -> None:
    data = yaml.safe_load((small_study / "case.yaml").read_text())
    structures = {**data["images"]["structures"], "liver": "Liverr"}
    picked = {"path": str(export_zip), "modality": "RTSTRUCT", "description": "str*"}
    case = load_case(
        _case(small_study, tmp_path, {"segmentation": picked, "structures": structures})
    )
    with pytest.raises(InputError, match=r"'Liverr' not found") as caught:
        plan_from_images(case)
    assert "pacs.zip" in str(caught.value)
    assert "opensirt-zip-" not in str(caught.value)
