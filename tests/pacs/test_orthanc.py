"""Against a real PACS (Orthanc): echo, find, retrieve by C-GET, C-MOVE and WADO-RS, plan
from PACS references, send the plan's RTDOSE back by C-STORE and STOW-RS and find it again;
and the faults: a node down, slow, refusing the association, half a series, a wrong patient.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pydicom
import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.pacs import dimse
from opensirt.pacs.errors import (
    AssociationRefusedError,
    IncompleteSeriesError,
    NodeUnreachableError,
    PacsTimeoutError,
    WrongPatientError,
)
from opensirt.pacs.nodes import LocalNode, NodesFile, RetrieveMethod, load_nodes
from opensirt.pacs.receiver import Expectation, StoreCollector, StoreReceiver
from opensirt.pacs.retrieve import fetch_series, query_series
from orthanc_server import Orthanc, free_port, nodes_settings

runner = CliRunner()


def _uids(folder: Path) -> dict[str, dict[str, str]]:
    """Series UID -> {modality, study UID} of the DICOM files under ``folder``."""
    found: dict[str, dict[str, str]] = {}
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        found[str(ds.SeriesInstanceUID)] = {
            "modality": str(ds.Modality),
            "study": str(ds.StudyInstanceUID),
        }
    return found


def _series(small_study: Path, modality: str) -> tuple[str, str]:
    """(study UID, series UID) of the synthetic patient's series of ``modality``."""
    for uid, info in _uids(small_study / "dicom").items():
        if info["modality"] == modality:
            return info["study"], uid
    raise AssertionError(modality)


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_echo_dimse_and_dicomweb(nodes_file: Path) -> None:
    code, out = _invoke("pacs", "echo", "orthanc", "--nodes", str(nodes_file))
    assert code == 0, out
    assert "answered C-ECHO" in out
    assert "answered QIDO-RS" in out
    assert "orthanc-test-secret" not in out


@pytest.mark.parametrize("web", [False, True], ids=["c-find", "qido-rs"])
def test_find_studies_and_series(nodes_file: Path, small_study: Path, web: bool) -> None:
    extra = ["--web"] if web else []
    code, out = _invoke(
        "pacs",
        "find",
        "orthanc",
        "--patient-id",
        "DEMO-001",
        "--json",
        "--nodes",
        str(nodes_file),
        *extra,
    )
    assert code == 0, out
    studies = json.loads(out)
    study_uid, _ = _series(small_study, "CT")
    assert [s["StudyInstanceUID"] for s in studies] == [study_uid]
    code, out = _invoke(
        "pacs", "find", "orthanc", "--level", "series", "--study-uid", study_uid, "--json",
        "--nodes", str(nodes_file), *extra,
    )  # fmt: skip
    assert code == 0, out
    counts = {s["Modality"]: int(s["NumberOfSeriesRelatedInstances"]) for s in json.loads(out)}
    if not web:  # DICOMweb has no patient level
        code, out = _invoke("pacs", "find", "orthanc", "--level", "patient", "--json",
                            "--patient-id", "DEMO*", "--nodes", str(nodes_file))  # fmt: skip
        assert code == 0, out
        assert [p["PatientID"] for p in json.loads(out)] == ["DEMO-001"]
    local = _uids(small_study / "dicom")
    assert set(counts) == {info["modality"] for info in local.values()}
    assert counts["CT"] == len(list((small_study / "dicom" / "ct").glob("*.dcm")))


@pytest.mark.parametrize("method", list(RetrieveMethod), ids=str)
def test_retrieve_a_series(nodes_file: Path, small_study: Path, method: RetrieveMethod) -> None:
    settings = load_nodes(nodes_file)
    study_uid, series_uid = _series(small_study, "CT")
    progress: list[tuple[int, int | None]] = []
    series = fetch_series(
        settings, "orthanc", study_uid, series_uid, method=method, patient_id="DEMO-001",
        progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    originals = {
        str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p
        for p in (small_study / "dicom" / "ct").glob("*.dcm")
    }
    assert {p.stem for p in series.files} == set(originals)
    assert not series.reused
    assert progress[-1] == (len(originals), len(originals))
    some = sorted(originals)[0]
    retrieved = pydicom.dcmread(series.folder / f"{some}.dcm")
    assert (retrieved.pixel_array == pydicom.dcmread(originals[some]).pixel_array).all()
    again = fetch_series(settings, "orthanc", study_uid, series_uid, method=method)
    assert again.reused
    assert again.folder == series.folder
    code, out = _invoke(
        "pacs", "get", "orthanc", study_uid, series_uid, "--nodes", str(nodes_file),
        "--out", str(nodes_file.parent / "out"),
    )  # fmt: skip
    assert code == 0, out
    assert "from the cache" in out
    assert len(list((nodes_file.parent / "out" / series_uid).glob("*.dcm"))) == len(originals)


def _pacs_case(small_study: Path, target: Path, **extra: object) -> Path:
    """The demo case with its CT, SPECT and RTSTRUCT named by UID on the node ``orthanc``."""
    case = yaml.safe_load((small_study / "case.yaml").read_text())
    for key, modality in (("ct", "CT"), ("spect", "NM"), ("segmentation", "RTSTRUCT")):
        study_uid, series_uid = _series(small_study, modality)
        case["images"][key] = {
            "pacs": "orthanc",
            "study_uid": study_uid,
            "series_uid": series_uid,
            **extra,
        }
    for key in ("post_treatment", "post_ct", "post_segmentation"):
        case["images"].pop(key, None)
    case.pop("treatment", None)
    target.mkdir(parents=True, exist_ok=True)
    path = target / "case.yaml"
    path.write_text(yaml.safe_dump(case, sort_keys=False))
    return path


@pytest.mark.slow
def test_plan_from_pacs_and_send_the_dose_back(
    nodes_file: Path, small_study: Path, orthanc: Orthanc, tmp_path: Path
) -> None:
    case = _pacs_case(small_study, tmp_path / "case")
    out = tmp_path / "plan"
    code, output = _invoke(
        "plan", str(case), "--nodes", str(nodes_file), "--out", str(out), "--json"
    )
    assert code == 0, output
    from_pacs = json.loads(output[output.index("{") :])
    code, output = _invoke("plan", str(small_study / "case.yaml"), "--json")
    assert code == 0, output
    local = json.loads(output[output.index("{") :])
    assert from_pacs["activity_gbq"] == pytest.approx(local["activity_gbq"], rel=1e-9)
    assert from_pacs["image_measurements"] == local["image_measurements"]
    doses = [
        p
        for p in out.rglob("*.dcm")
        if pydicom.dcmread(p, stop_before_pixels=True).Modality == "RTDOSE"
    ]
    assert doses
    dose = pydicom.dcmread(doses[0], stop_before_pixels=True)
    code, output = _invoke("pacs", "send", "orthanc", str(doses[0]), "--nodes", str(nodes_file))
    assert code == 0, output
    assert "stored on orthanc by C-STORE" in output
    settings = load_nodes(nodes_file)
    keys = {
        "StudyInstanceUID": str(dose.StudyInstanceUID),
        "SeriesInstanceUID": "",
        "Modality": "RTDOSE",
    }
    found = dimse.find(
        "orthanc", settings.node("orthanc"), settings.local, dimse.QueryLevel.SERIES, keys
    )
    assert [str(ds.SeriesInstanceUID) for ds in found] == [str(dose.SeriesInstanceUID)]
    orthanc.rest("DELETE", f"/series/{_orthanc_series_id(orthanc, str(dose.SeriesInstanceUID))}")
    code, output = _invoke(
        "pacs", "send", "orthanc", str(doses[0]), "--web", "--nodes", str(nodes_file)
    )
    assert code == 0, output
    assert "by STOW-RS" in output
    code, output = _invoke(
        "pacs", "find", "orthanc", "--level", "series", "--study-uid", str(dose.StudyInstanceUID),
        "--modality", "RTDOSE", "--web", "--json", "--nodes", str(nodes_file),
    )  # fmt: skip
    assert code == 0, output
    assert [s["SeriesInstanceUID"] for s in json.loads(output)] == [str(dose.SeriesInstanceUID)]
    orthanc.rest("DELETE", f"/series/{_orthanc_series_id(orthanc, str(dose.SeriesInstanceUID))}")


def _orthanc_series_id(orthanc: Orthanc, series_uid: str) -> str:
    body = json.dumps({"Level": "Series", "Query": {"SeriesInstanceUID": series_uid}}).encode()
    found = orthanc.rest("POST", "/tools/find", body)
    assert isinstance(found, list)
    assert len(found) == 1
    return str(found[0])


# ---- faults -------------------------------------------------------------------------------


def _settings(orthanc: Orthanc, tmp_path: Path, **node: object) -> NodesFile:
    return NodesFile.model_validate(nodes_settings(orthanc, tmp_path / "cache", **node))


def test_node_down(orthanc: Orthanc, tmp_path: Path, small_study: Path) -> None:
    settings = _settings(orthanc, tmp_path, port=free_port(), retries=2, backoff_s=0.01)
    study_uid, series_uid = _series(small_study, "CT")
    with pytest.raises(
        NodeUnreachableError, match=r"node 'orthanc', C-FIND \(study\): cannot connect"
    ):
        fetch_series(settings, "orthanc", study_uid, series_uid)
    path = tmp_path / "down.yaml"
    path.write_text(yaml.safe_dump(nodes_settings(orthanc, tmp_path, port=free_port())))
    code, out = _invoke("pacs", "echo", "orthanc", "--nodes", str(path))
    assert code == 1
    assert "PACS node 'orthanc', C-ECHO: cannot connect" in out


def test_slow_node_times_out(orthanc: Orthanc, tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        settings = _settings(orthanc, tmp_path, port=silent.getsockname()[1], timeout_s=0.5)
        with pytest.raises(PacsTimeoutError, match=r"node 'orthanc', C-ECHO: no association"):
            dimse.echo("orthanc", settings.node("orthanc"), settings.local)


def test_refused_association(orthanc: Orthanc, tmp_path: Path) -> None:
    # a rejection comes at once; the generous wait only matters on a loaded machine
    settings = _settings(orthanc, tmp_path, ae_title="NOT-ORTHANC", timeout_s=60)
    with pytest.raises(AssociationRefusedError, match=r"C-ECHO: the association was rejected"):
        dimse.echo("orthanc", settings.node("orthanc"), settings.local)


def test_receiver_refuses_unknown_callers(tmp_path: Path) -> None:
    local = LocalNode(ae_title="OPENSIRT", port=free_port())
    collector = StoreCollector(Expectation("1.2.3"), tmp_path)
    caller = NodesFile.model_validate(
        {"opensirt_pacs": 1, "local": {"ae_title": "INTRUDER"},
         "nodes": {"me": {"ae_title": "OPENSIRT", "host": "127.0.0.1", "port": local.port}}}
    )  # fmt: skip
    refused = pytest.raises(AssociationRefusedError, match="rejected")
    with StoreReceiver(local, ["ORTHANC"], collector).running(), refused:
        dimse.echo("me", caller.node("me"), caller.local)
    with StoreReceiver(local, ["INTRUDER"], collector).running():
        assert dimse.echo("me", caller.node("me"), caller.local) > 0


def test_half_a_series_is_refused(
    orthanc: Orthanc, tmp_path: Path, small_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(orthanc, tmp_path)
    study_uid, series_uid = _series(small_study, "PT")
    full = query_series(settings, "orthanc", study_uid, series_uid).instances
    victim = sorted((small_study / "dicom" / "y90_pet").glob("*.dcm"))[0]
    uid = str(pydicom.dcmread(victim, stop_before_pixels=True).SOPInstanceUID)
    body = json.dumps({"Level": "Instance", "Query": {"SOPInstanceUID": uid}}).encode()
    [instance] = orthanc.rest("POST", "/tools/find", body)  # type: ignore[misc]
    orthanc.rest("DELETE", f"/instances/{instance}")
    try:
        # the count the case was written with no longer matches what the PACS reports
        with pytest.raises(
            IncompleteSeriesError,
            match=rf"C-FIND: .*{full - 1} instance\(s\) on the node, {full} expected",
        ):
            fetch_series(settings, "orthanc", study_uid, series_uid, expected_instances=full)
        # the PACS reports the full count but sends one instance fewer
        import opensirt.pacs.retrieve as retrieve

        reported = retrieve.query_series(settings, "orthanc", study_uid, series_uid)
        monkeypatch.setattr(
            retrieve,
            "query_series",
            lambda *a: retrieve.SeriesInfo(**{**reported.__dict__, "instances": full}),
        )
        for method in (RetrieveMethod.C_GET, RetrieveMethod.WADO_RS):
            with pytest.raises(
                IncompleteSeriesError,
                match=rf"'orthanc', {method.upper()}: .*{full - 1} instance\(s\) arrived, "
                rf"the query reported {full}",
            ):
                fetch_series(settings, "orthanc", study_uid, series_uid, method=method)
        assert not list((tmp_path / "cache").glob("series/*/*")), "no half-filled cache entry"
        assert not list((tmp_path / "cache" / "staging").iterdir())
    finally:
        orthanc.upload([victim])


@pytest.mark.slow
def test_wrong_patient_is_refused(orthanc: Orthanc, tmp_path: Path, small_study: Path) -> None:
    settings = _settings(orthanc, tmp_path)
    study_uid, series_uid = _series(small_study, "CT")
    with pytest.raises(
        WrongPatientError,
        match=r"C-FIND: series .* belongs to patient 'DEMO-001', expected 'OTHER-7'",
    ):
        fetch_series(settings, "orthanc", study_uid, series_uid, patient_id="OTHER-7")
    # a PACS that sends another patient's instances: refused on arrival, nothing kept
    expect = Expectation(study_uid, series_uid, patient_id="OTHER-7")
    folder = tmp_path / "received"
    folder.mkdir()
    _, collector = dimse.get_series(
        "orthanc", settings.node("orthanc"), settings.local, expect, folder
    )
    assert not collector.stored
    assert "PatientID is 'DEMO-001', expected 'OTHER-7'" in collector.refused[0]
    assert not list(folder.iterdir())
    case = _pacs_case(small_study, tmp_path / "case", patient_id="OTHER-7")
    path = tmp_path / "pacs.yaml"
    path.write_text(yaml.safe_dump(nodes_settings(orthanc, tmp_path / "cache")))
    code, out = _invoke("plan", str(case), "--nodes", str(path), "--json")
    assert code == 1
    assert "belongs to patient 'DEMO-001', expected 'OTHER-7'" in " ".join(out.split())
    code, out = _invoke(
        "verify", str(case), "--out", str(tmp_path / "check"), "--nodes", str(path), "--json"
    )
    assert code == 1
    assert "PACS node 'orthanc', C-FIND: series" in " ".join(out.split())
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
