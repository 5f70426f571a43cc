"""The PACS commands: ``opensirt pacs echo | find | get | send``.

Every command takes ``--nodes`` (the nodes file; default ``$OPENSIRT_PACS_NODES``, then
``~/.config/opensirt/pacs.yaml``) and a node's name. Exit codes: 0 success, 2 bad input (a
nodes file or an option that is wrong: the message names it), 1 a PACS fault (down, slow,
refused, incomplete series, wrong patient: the message names the node and the step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opensirt.commands._common import console, emit_json, exit_codes

if TYPE_CHECKING:
    from opensirt.pacs.nodes import NodesFile, RetrieveMethod

__all__ = ["NodesOption", "pacs_app", "register"]

#: The ``--nodes`` option of the PACS commands and of ``plan`` and ``verify``.
NodesOption = Annotated[
    Path | None,
    typer.Option(
        "--nodes",
        envvar="OPENSIRT_PACS_NODES",
        help="The PACS nodes file (YAML, opensirt_pacs: 1). "
        "Default: $OPENSIRT_PACS_NODES, else ~/.config/opensirt/pacs.yaml.",
        show_default=False,
    ),
]
NodeArgument = Annotated[str, typer.Argument(help="The node's name in the nodes file.")]
WebOption = Annotated[
    bool, typer.Option("--web", help="Use the node's DICOMweb service (QIDO-RS / STOW-RS).")
]

pacs_app = typer.Typer(
    name="pacs",
    help="Query, retrieve and send DICOM: a PACS over DICOM networking (C-ECHO, C-FIND, C-GET, "
    "C-MOVE, C-STORE, TLS optional) or DICOMweb (QIDO-RS, WADO-RS, STOW-RS).",
    no_args_is_help=True,
)


@contextmanager
def _bar(label: str, enabled: bool = True) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar of instances; yields the callback (done, total)."""
    if not enabled:
        yield lambda _done, _total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task(escape(label), total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _settings(nodes: Path | None) -> NodesFile:
    from opensirt.pacs.nodes import load_nodes

    return load_nodes(nodes)


def echo(node: NodeArgument, nodes: NodesOption = None) -> None:
    """Check that a node answers: C-ECHO (DIMSE), or a QIDO-RS query (DICOMweb only).

    \b
    Examples:
      opensirt pacs echo hospital
      opensirt pacs echo hospital --nodes ./pacs.yaml
    """
    import time

    from opensirt.pacs.dicomweb import qido
    from opensirt.pacs.dimse import QueryLevel
    from opensirt.pacs.dimse import echo as c_echo

    with exit_codes():
        settings = _settings(nodes)
        settings_node = settings.node(node)
        if settings_node.has_dimse:
            seconds = c_echo(node, settings_node, settings.local)
            where = f"{settings_node.ae_title}@{settings_node.host}:{settings_node.port}"
            console.print(
                f"{escape(node)} ({escape(where)}) answered C-ECHO in {seconds * 1e3:.0f} ms"
            )
        if settings_node.dicomweb is not None:
            start = time.perf_counter()
            qido(node, settings_node, QueryLevel.STUDY, {"StudyInstanceUID": "1.2.3.4.5.6.7.8.9"})
            seconds = time.perf_counter() - start
            url = settings_node.dicomweb.url
            console.print(
                f"{escape(node)} ({escape(url)}) answered QIDO-RS in {seconds * 1e3:.0f} ms"
            )


_COLUMNS = {
    "patient": ("PatientID", "PatientName", "PatientBirthDate", "NumberOfPatientRelatedStudies"),
    "study": (
        "PatientID",
        "StudyDate",
        "StudyDescription",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedInstances",
        "StudyInstanceUID",
    ),
    "series": (
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
        "SeriesInstanceUID",
    ),
}


def _keys(
    level: str, patient_id: str | None, study_uid: str | None, modality: str | None
) -> dict[str, Any]:
    keys: dict[str, Any] = dict.fromkeys(_COLUMNS[level], "")
    if level == "series" and "PatientID" in keys:
        del keys["PatientID"]
    if patient_id is not None and level != "series":
        keys["PatientID"] = patient_id
    if study_uid is not None:
        keys["StudyInstanceUID"] = study_uid
    if modality is not None:
        keys["Modality" if level == "series" else "ModalitiesInStudy"] = modality
    return keys


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def find(
    node: NodeArgument,
    level: Annotated[str, typer.Option(help="patient | study | series")] = "study",
    patient_id: Annotated[
        str | None, typer.Option("--patient-id", help="Patient ID (* wildcards).")
    ] = None,
    study_uid: Annotated[
        str | None,
        typer.Option("--study-uid", help="Study Instance UID (needed for --level series)."),
    ] = None,
    modality: Annotated[str | None, typer.Option(help="Modality (CT, NM, PT ...).")] = None,
    web: WebOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the matches as JSON.")] = False,
    nodes: NodesOption = None,
) -> None:
    """Find patients, studies or series: C-FIND, or QIDO-RS with --web.

    \b
    Examples:
      opensirt pacs find hospital --patient-id DEMO-001
      opensirt pacs find hospital --level series --study-uid 1.2.826.0.1...
      opensirt pacs find hospital --level series --study-uid 1.2.826.0.1... --web --json
    """
    from opensirt.errors import InputError
    from opensirt.pacs.dicomweb import qido
    from opensirt.pacs.dimse import QueryLevel
    from opensirt.pacs.dimse import find as c_find

    with exit_codes():
        if level not in _COLUMNS:
            raise InputError(f"--level is {level!r}, expected patient, study or series")
        if level == "series" and study_uid is None:
            raise InputError("--level series needs --study-uid (find the study first)")
        settings = _settings(nodes)
        settings_node = settings.node(node)
        keys = _keys(level, patient_id, study_uid, modality)
        query_level = QueryLevel(level)
        use_web = web or not settings_node.has_dimse
        found = (
            qido(node, settings_node, query_level, keys)
            if use_web
            else c_find(node, settings_node, settings.local, query_level, keys)
        )
    rows = [{k: _text(ds.get(k)) for k in _COLUMNS[level]} for ds in found]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{len(rows)} {level} match(es) on {escape(node)}", title_justify="left")
    for column in _COLUMNS[level]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(v) for v in row.values()))
    console.print(table)


def _series_of(settings: NodesFile, node: str, study_uid: str, web: bool) -> list[str]:
    from opensirt.pacs.dicomweb import qido
    from opensirt.pacs.dimse import QueryLevel
    from opensirt.pacs.dimse import find as c_find

    keys = {"StudyInstanceUID": study_uid, "SeriesInstanceUID": ""}
    settings_node = settings.node(node)
    if web or not settings_node.has_dimse:
        found = qido(node, settings_node, QueryLevel.SERIES, keys)
    else:
        found = c_find(node, settings_node, settings.local, QueryLevel.SERIES, keys)
    return [str(ds.SeriesInstanceUID) for ds in found]


def get(
    node: NodeArgument,
    study_uid: Annotated[str, typer.Argument(help="Study Instance UID.")],
    series_uids: Annotated[
        list[str] | None, typer.Argument(help="Series Instance UIDs (default: every series).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also copy the series here (a folder each).")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="c-get | c-move | wado-rs (default: the node's retrieve).")
    ] = None,
    patient_id: Annotated[
        str | None, typer.Option("--patient-id", help="Refuse series of another patient.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    nodes: NodesOption = None,
) -> None:
    """Retrieve series into the local cache (checked complete), optionally copying them out.

    \b
    Examples:
      opensirt pacs get hospital 1.2.826.0.1... 1.2.826.0.1...
      opensirt pacs get hospital 1.2.826.0.1... --method c-move --out ./planning-ct
    """
    from opensirt.errors import InputError
    from opensirt.pacs.nodes import RetrieveMethod
    from opensirt.pacs.retrieve import fetch_series

    rows = []
    with exit_codes():
        settings = _settings(nodes)
        try:
            chosen: RetrieveMethod | None = None if method is None else RetrieveMethod(method)
        except ValueError:
            raise InputError(f"--method is {method!r}, expected c-get, c-move or wado-rs") from None
        web = chosen is RetrieveMethod.WADO_RS
        uids = list(series_uids or _series_of(settings, node, study_uid, web))
        for uid in uids:
            with _bar(f"series …{uid[-12:]}", enabled=not as_json) as progress:
                series = fetch_series(
                    settings,
                    node,
                    study_uid,
                    uid,
                    patient_id=patient_id,
                    method=chosen,
                    progress=progress,
                )
            if out is not None:
                _copy_out(series.folder, out / uid)
            rows.append(
                {
                    "series_uid": uid,
                    "instances": len(series.files),
                    "megabytes": round(series.total_bytes / 1e6, 3),
                    "reused": series.reused,
                    "folder": str(out / uid if out is not None else series.folder),
                }
            )
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state = "from the cache" if row["reused"] else "retrieved"
        console.print(
            f"{row['series_uid']}: {row['instances']} instance(s), {row['megabytes']} MB, "
            f"{state}: {escape(str(row['folder']))}",
            highlight=False,
        )


def _copy_out(folder: Path, target: Path) -> None:
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.dcm"):
        shutil.copy2(path, target / path.name)


def _dicom_files(paths: list[Path]) -> list[Path]:
    from opensirt.errors import InputError

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and _is_dicom(p))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path} does not exist; give DICOM files or folders")
    if not files:
        raise InputError(f"no DICOM file in {', '.join(map(str, paths))}")
    return files


def _is_dicom(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(132)[128:] == b"DICM"


def send(
    node: NodeArgument,
    paths: Annotated[list[Path], typer.Argument(help="DICOM files, or folders searched for them.")],
    web: WebOption = False,
    nodes: NodesOption = None,
) -> None:
    """Send DICOM (an RTDOSE, a report ...) to a node: C-STORE, or STOW-RS with --web.

    \b
    Examples:
      opensirt pacs send hospital my-plan/dose.dcm
      opensirt pacs send hospital my-plan/ --web
    """
    from opensirt.pacs.dicomweb import stow_files
    from opensirt.pacs.dimse import store_files

    with exit_codes():
        settings = _settings(nodes)
        settings_node = settings.node(node)
        files = _dicom_files(paths)
        use_web = web or not settings_node.has_dimse
        with _bar(f"sending to {node}") as progress:
            if use_web:
                stored = stow_files(node, settings_node, files, progress)
            else:
                stored = store_files(node, settings_node, settings.local, files, progress)
    step = "STOW-RS" if use_web else "C-STORE"
    console.print(f"{len(stored)} instance(s) stored on {escape(node)} by {step}")


def register(app: typer.Typer) -> None:
    """Add ``opensirt pacs`` and its subcommands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The root command-line application.
    """
    pacs_app.command("echo")(echo)
    pacs_app.command("find")(find)
    pacs_app.command("get")(get)
    pacs_app.command("send")(send)
    app.add_typer(pacs_app)
