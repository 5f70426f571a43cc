"""PACS references in a case file's images: parsed, resolved to cached paths; the planning
model itself refuses them with a message that says who fetches them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opensirt.errors import CaseFileError
from opensirt.pacs.cache import CachedSeries
from opensirt.pacs.case_images import (
    PacsReference,
    load_case_with_pacs,
    pacs_references,
    resolve_references,
)
from opensirt.planning import load_case

REF = {"pacs": "hospital", "study_uid": "1.2.3", "series_uid": "1.2.3.4", "instances": 40}


def test_references_are_parsed_and_checked() -> None:
    refs = pacs_references({"images": {"ct": REF, "spect": "nm/"}})
    assert refs == {"ct": PacsReference(**REF)}  # type: ignore[arg-type]
    with pytest.raises(CaseFileError, match=r"images.ct.series_uid: String should match pattern"):
        pacs_references({"images": {"ct": {**REF, "series_uid": "x"}}})
    with pytest.raises(CaseFileError, match=r"images.ct.colour: Extra inputs"):
        pacs_references({"images": {"ct": {**REF, "colour": 1}}})


def test_references_resolve_to_cached_paths(tmp_path: Path) -> None:
    def fetch(key: str, ref: PacsReference) -> CachedSeries:
        count = 1 if key == "segmentation" else 3
        files = tuple(tmp_path / key / f"{i}.dcm" for i in range(count))
        return CachedSeries(tmp_path / key, ref.study_uid, ref.series_uid, "P", files, 0)

    data = {"images": {"ct": REF, "segmentation": REF, "spect": "nm/"}}
    resolved = resolve_references(data, fetch)
    assert resolved["images"] == {
        "ct": str(tmp_path / "ct"),
        "segmentation": str(tmp_path / "segmentation" / "0.dcm"),  # one instance: the file
        "spect": "nm/",
    }
    assert data["images"]["ct"] == REF  # unchanged


def test_planning_refuses_references_it_cannot_fetch(small_study: Path, tmp_path: Path) -> None:
    case = yaml.safe_load((small_study / "case.yaml").read_text())
    case["images"]["ct"] = REF
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    with pytest.raises(
        CaseFileError, match="names a series on PACS node 'hospital'; only the command line"
    ):
        load_case(path)
    with pytest.raises(Exception, match=r"PACS nodes file .* does not exist"):
        load_case_with_pacs(path, tmp_path / "no-nodes.yaml")


def test_a_case_without_references_reads_as_before(small_study: Path) -> None:
    path = small_study / "case.yaml"
    assert load_case_with_pacs(path) == load_case(path)
