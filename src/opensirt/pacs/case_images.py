"""A case file whose ``images:`` name series on a PACS: fetched into the cache, then planned.

An image entry of a case file may be a PACS reference instead of a path::

    images:
      ct: {pacs: hospital, study_uid: 1.2.840..., series_uid: 1.2.840..., instances: 312}
      spect: {pacs: hospital, study_uid: 1.2.840..., series_uid: 1.2.840...}
      segmentation: {pacs: hospital, study_uid: 1.2.840..., series_uid: 1.2.840...}

``pacs`` names a node of the nodes file; ``instances`` (optional) is the count seen when the
case was written (a series that now has another count is refused); ``patient_id`` (optional)
is the PACS's Patient ID when the case's ``patient.id`` is a pseudonym (default: the case's
``patient.id``: a series of another patient is refused). Each series is fetched (or found in
the cache) and the entry replaced by its cached folder (or its single file, for an RTSTRUCT or
SEG series of one instance) before the case is validated as usual; the planning code never
sees the PACS. A case without references is read exactly as :func:`load_case` reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opensirt.errors import CaseFileError, InputError
from opensirt.fileio import read_text_file
from opensirt.pacs.cache import CachedSeries
from opensirt.pacs.nodes import load_nodes
from opensirt.pacs.retrieve import fetch_series
from opensirt.planning.case import Case
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES, parse_case, parse_yaml

__all__ = ["PacsReference", "load_case_with_pacs", "pacs_references", "resolve_references"]

Uid = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9]+(\.[0-9]+)*$")]


class PacsReference(BaseModel):
    """One series on a PACS node, as an image entry of a case file names it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pacs: Annotated[str, Field(min_length=1)]
    study_uid: Uid
    series_uid: Uid
    instances: Annotated[int, Field(ge=1)] | None = None
    patient_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


def pacs_references(data: Any, source: str = "case") -> dict[str, PacsReference]:
    """The PACS references among a parsed case's image entries.

    Parameters
    ----------
    data : Any
        The case file as parsed from YAML.
    source : str
        The file's name, for messages.

    Returns
    -------
    dict of str to PacsReference
        By image key (``ct``, ``spect`` ...); empty when the case names none.

    Raises
    ------
    CaseFileError
        If a reference is malformed; the message names ``images.KEY`` and the field.

    Examples
    --------
    >>> ref = {"pacs": "hospital", "study_uid": "1.2.3", "series_uid": "1.2.3.4"}
    >>> sorted(pacs_references({"images": {"ct": ref, "spect": "nm/"}}))
    ['ct']
    """
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict):
        return {}
    found = {}
    for key, value in images.items():
        if not (isinstance(value, dict) and "pacs" in value):
            continue
        try:
            found[str(key)] = PacsReference.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"images.{key}.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise CaseFileError(
                f"{source}: invalid PACS reference: {problems} (write {{pacs: NODE, "
                "study_uid: UID, series_uid: UID}, optionally instances and patient_id)"
            ) from None
    return found


def resolve_references(
    data: dict[str, Any], fetch: Callable[[str, PacsReference], CachedSeries]
) -> dict[str, Any]:
    """The case data with each PACS reference replaced by the path of its cached series.

    Parameters
    ----------
    data : dict
        The case file as parsed from YAML.
    fetch : callable
        Given the image key and the reference, the complete cached series.

    Returns
    -------
    dict
        A copy of ``data``; the input is not changed.
    """
    references = pacs_references(data)
    if not references:
        return data
    images = dict(data["images"])
    for key, reference in references.items():
        series = fetch(key, reference)
        one = len(series.files) == 1
        images[key] = str(series.files[0] if one else series.folder)
    return {**data, "images": images}


def load_case_with_pacs(
    path: Path,
    nodes: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Case:
    """Read a case file, fetching the PACS series its ``images:`` name into the cache first.

    Parameters
    ----------
    path : Path
        The case file (YAML).
    nodes : Path, optional
        The nodes file (default: see :func:`opensirt.pacs.nodes.nodes_path`); read only when
        the case names a PACS series.
    progress : callable, optional
        Called with a line for each series being fetched.

    Returns
    -------
    Case
        The validated case; its PACS images are paths in the cache.

    Raises
    ------
    CaseFileError
        If the file is not a valid case file.
    InputError
        If the nodes file is missing or wrong.
    PacsError
        If a series cannot be fetched complete, or belongs to another patient.
    """
    try:
        text = read_text_file(path, what="case file", max_bytes=MAX_CASE_FILE_BYTES)
        data = parse_yaml(text, str(path))
    except InputError as exc:
        raise CaseFileError(str(exc)) from None
    if pacs_references(data, str(path)):
        settings = load_nodes(nodes)
        patient = data.get("patient")
        case_patient = patient.get("id") if isinstance(patient, dict) else None

        def fetch(key: str, ref: PacsReference) -> CachedSeries:
            if progress is not None:
                progress(f"fetching images.{key} from PACS node {ref.pacs!r}")
            return fetch_series(
                settings,
                ref.pacs,
                ref.study_uid,
                ref.series_uid,
                patient_id=ref.patient_id or (str(case_patient) if case_patient else None),
                expected_instances=ref.instances,
            )

        data = resolve_references(data, fetch)
    return parse_case(data, source=str(path), base_dir=path.resolve().parent)
