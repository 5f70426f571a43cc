"""The one-page pathway summary of a patient, as a report document.

:func:`summary_document` turns a :class:`~opensirt.registry.timeline.Timeline` into a
:class:`~opensirt.report.ReportDocument`: the patient (pseudonym, sex, birth year, diagnosis
and its date) in the title lines, the key numbers, a figure of the treatments and events along
a date axis, and the pathway as a compact table. :func:`write_summaries` writes one or several
patients into one PDF, each patient starting on a page of their own.

One page for a typical patient: the table shows every entry while it takes at most
:data:`FULL_TABLE_LINES` lines of text (estimated from the summaries' lengths). A longer
history is condensed: the routine records (labs, findings, quality of life, imaging studies,
monitoring, lesion measurements, earlier plan versions, last contacts) leave the table, whose
caption says how many records it shows and where to see them all (``opensirt registry
timeline``); the pathway's decisions, plans, treatments, verifications, adverse events,
responses and outcomes stay, and the responses of one date share a row. If those alone still
do not fit, the table continues on a second page.

Key numbers:

* planned and delivered activity (GBq): the plan versions the SIRT sessions deliver (else the
  approved versions), and the sum of the sessions' delivered activities;
* planned mean doses (Gy) of those versions: tumour, normal liver, lung;
* verified mean doses (Gy): structures of the latest verification (the flagged ones first, at
  most :data:`KEY_STRUCTURES`), predicted -> delivered;
* best overall response per criteria (:func:`opensirt.clinical.response.best_overall_response`,
  RECIST 1.1 section 4.4 [EISENHAUER2009]_, unconfirmed; baseline the first lesion
  measurement);
* the worst adverse-event grade (CTCAE v5.0), with its term and onset;
* vital status and follow-up: days (under two months) or months (of 30.4375 days) from the
  first SIRT (or the diagnosis) to the death or the last record.

References
----------
.. [EISENHAUER2009] Eisenhauer EA, Therasse P, Bogaerts J et al. New response evaluation
   criteria in solid tumours: revised RECIST guideline (version 1.1). Eur J Cancer
   2009;45:228-247. doi:10.1016/j.ejca.2008.10.026
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from opensirt.clinical.response import Response, ResponseOptions, best_overall_response
from opensirt.fileio import write_atomically
from opensirt.registry.summaries import CRITERIA_TEXT, THERAPY_TEXT
from opensirt.registry.timeline import Timeline, TimelineEntry, TimelineKind
from opensirt.report import ReportDocument, ReportFigure, Section, Table, format_value, write_pdf

#: Lines of text the table shows in full; a longer pathway leaves the routine records out.
FULL_TABLE_LINES = 20

#: Characters of a summary per line of the table's last column (A4, the report's table font).
_CHARS_PER_LINE = 90

#: Structures of a verification listed in the key numbers (flagged ones first).
KEY_STRUCTURES = 4

#: Kinds that leave the table of a long pathway (they stay in ``opensirt registry timeline``).
ROUTINE_KINDS = frozenset(
    {
        TimelineKind.FINDINGS,
        TimelineKind.LABS,
        TimelineKind.QUALITY_OF_LIFE,
        TimelineKind.IMAGING,
        TimelineKind.MONITORING,
        TimelineKind.LESIONS,
    }
)


def routine(entry: TimelineEntry) -> bool:
    """Whether an entry leaves the table of a long pathway.

    Parameters
    ----------
    entry : TimelineEntry
        A timeline entry.

    Returns
    -------
    bool
        True for the :data:`ROUTINE_KINDS`, plan versions other than the approved one, and
        last-contact outcomes.
    """
    if entry.kind is TimelineKind.PLAN:
        return bool(entry.details["state"] != "approved")
    if entry.kind is TimelineKind.OUTCOME:
        return bool(entry.details["kind"] == "last-contact")
    return entry.kind in ROUTINE_KINDS


#: Approximate width of a character of the figure's 6 pt labels (pt).
_LABEL_PT_PER_CHAR = 3.4

#: Mean days per month (365.25 / 12) for follow-up times.
DAYS_PER_MONTH = 30.4375

_DIAGNOSIS_TEXT = {
    "hcc": "hepatocellular carcinoma",
    "icc": "intrahepatic cholangiocarcinoma",
    "crc": "colorectal liver metastases",
    "net": "neuroendocrine liver metastases",
    "breast": "breast cancer liver metastases",
    "other": "other liver malignancy",
}


def _months(start: dt.date, end: dt.date) -> str:
    """A follow-up time: in days up to two months, in months after."""
    days = (end - start).days
    if days < 2 * DAYS_PER_MONTH:
        return f"{days} day" + ("" if days == 1 else "s")
    return f"{format_value(days / DAYS_PER_MONTH)} months"


def _delivered_plans(line: Timeline) -> list[Mapping[str, Any]]:
    """The plan versions the SIRT sessions deliver; else the approved versions."""
    plans = [e.details for e in line.of_kind(TimelineKind.PLAN)]
    linked = {
        (s.details["plan"]["label"], s.details["plan"]["version"])
        for s in line.of_kind(TimelineKind.SESSION)
        if s.details["therapy"] == "sirt" and s.details["plan"] is not None
    }
    chosen = [p for p in plans if (p["label"], p["version"]) in linked]
    return chosen or [p for p in plans if p["state"] == "approved"]


def _sum(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _best_responses(line: Timeline, baseline: dt.date) -> str:
    by_criteria: dict[str, list[tuple[dt.date, Response]]] = {}
    for entry in line.of_kind(TimelineKind.RESPONSE):
        try:
            value = Response(entry.details["overall"])
        except ValueError:
            continue
        by_criteria.setdefault(entry.details["criteria"], []).append((entry.date, value))
    shown = []
    for criteria, points in by_criteria.items():
        best = best_overall_response(
            [d for d, _ in points], [r for _, r in points], baseline, ResponseOptions()
        )
        shown.append(f"{best.value} ({CRITERIA_TEXT.get(criteria, criteria)})")
    return ", ".join(shown) or "no response assessed"


def _worst_event(line: Timeline) -> str:
    events = line.of_kind(TimelineKind.ADVERSE_EVENT)
    if not events:
        return "none recorded"
    worst = max(events, key=lambda e: (e.details["grade"], -e.date.toordinal()))
    return (
        f"grade {worst.details['grade']}, {worst.details['term']}, "
        f"{worst.date.isoformat()} ({len(events)} in all)"
    )


def _vital(line: Timeline, start: dt.date, start_name: str) -> str:
    deaths = [e for e in line.of_kind(TimelineKind.OUTCOME) if e.details["kind"] == "death"]
    last = max([line.diagnosis_date, *(e.date for e in line.entries)])
    if deaths:
        cause = deaths[0].details["cause"]
        return (
            f"died {deaths[0].date.isoformat()}"
            + (f" ({cause})" if cause else "")
            + f", {_months(start, deaths[0].date)} after {start_name}"
        )
    return f"alive at the last record {last.isoformat()}, {_months(start, last)} after {start_name}"


def key_numbers(line: Timeline) -> Table:
    """The key numbers of a pathway as a two-column table (see the module notes).

    Parameters
    ----------
    line : Timeline
        The patient's timeline.

    Returns
    -------
    opensirt.report.Table
        One row per number, with its unit.
    """
    sirt = [s for s in line.of_kind(TimelineKind.SESSION) if s.details["therapy"] == "sirt"]
    plans = _delivered_plans(line)
    planned = _sum([p["activity_gbq"] for p in plans])
    delivered = _sum([s.details["delivered_activity_gbq"] for s in sirt])
    ratio = (
        ""
        if planned is None or delivered is None or planned == 0
        else f" ({format_value(100.0 * delivered / planned)} % of planned)"
    )
    dates = ", ".join(s.date.isoformat() for s in sirt)
    rows: list[tuple[str, str]] = [
        (
            "SIRT sessions; GBq planned / delivered",
            f"{len(sirt)}"
            + (f" ({dates})" if sirt else "")
            + f"; {format_value(planned)} / {format_value(delivered)}{ratio}",
        ),
    ]
    for plan in plans:
        doses = ", ".join(
            f"{name} {format_value(plan[key])}"
            for name, key in (
                ("tumour", "tumour_dose_gy"),
                ("normal liver", "normal_liver_dose_gy"),
                ("lung", "lung_dose_gy"),
            )
        )
        rows.append((f"Planned dose (Gy), {plan['label']} v{plan['version']}", doses))
    verifications = line.of_kind(TimelineKind.VERIFICATION)
    if verifications:
        latest = verifications[-1]
        structures = sorted(latest.details["structures"], key=lambda s: not s["flagged"])
        verified = "; ".join(
            f"{s['structure']} {format_value(s['predicted_gy'])} -> "
            f"{format_value(s['delivered_gy'])}" + (" (flagged)" if s["flagged"] else "")
            for s in structures[:KEY_STRUCTURES]
        )
        if len(structures) > KEY_STRUCTURES:
            verified += f"; {len(structures) - KEY_STRUCTURES} more in the timeline"
        rows.append(
            (
                f"Verified dose (Gy), {latest.date.isoformat()}",
                verified or format_value(None),
            )
        )
    lesions = line.of_kind(TimelineKind.LESIONS)
    start, start_name = (sirt[0].date, "first SIRT") if sirt else (line.diagnosis_date, "diagnosis")
    baseline = lesions[0].date if lesions else start
    rows += [
        ("Best overall response", _best_responses(line, baseline)),
        ("Worst adverse event (CTCAE 5.0)", _worst_event(line)),
        ("Vital status, follow-up", _vital(line, start, start_name)),
    ]
    return Table(("Key number", "Value"), tuple(rows), caption="Key numbers")


def pathway_figure(line: Timeline) -> Figure:
    """Treatments and events of the pathway along a date axis, one lane per kind.

    Parameters
    ----------
    line : Timeline
        The patient's timeline.

    Returns
    -------
    matplotlib.figure.Figure
        Lanes (top to bottom): board and plans, treatments (SIRT with its delivered activity),
        responses, adverse events (by grade), outcomes; the diagnosis is a dashed line. A
        label that would overlap the previous one of its lane is left out, the marker kept.
    """
    import matplotlib.dates as mdates

    lanes = ("Board, plans", "Treatment", "Response", "Adverse event", "Outcome")
    figure = Figure(figsize=(7.0, 1.2))
    ax = figure.add_subplot()
    diagnosed = float(mdates.date2num(line.diagnosis_date))
    ax.axvline(diagnosed, color="#888888", lw=0.8, ls="--")
    ax.text(
        diagnosed,
        0.5,
        "diagnosis",
        transform=ax.get_xaxis_transform(),
        rotation=90,
        fontsize=5.5,
        color="#555555",
        ha="right",
        va="center",
    )

    days = [line.diagnosis_date, *(e.date for e in line.entries)]
    start, end = min(days), max(days)
    margin = max(7, (end - start).days // 12)
    axis_days = (end - start).days + 3 * margin
    # days per point of text along the axis (the axes are about 400 pt wide)
    days_per_pt = axis_days / 400.0
    marks: list[tuple[int, float, str, str, str, bool]] = []  # lane, x, marker, colour, label

    def mark(
        entry: TimelineEntry,
        lane: int,
        marker: str,
        colour: str,
        label: str = "",
        above: bool = False,
    ) -> None:
        marks.append((lane, float(mdates.date2num(entry.date)), marker, colour, label, above))

    for entry in line.entries:
        kind, d = entry.kind, entry.details
        if kind is TimelineKind.MDT:
            mark(entry, 0, "s", "#4c6a92", "MDT")
        elif kind is TimelineKind.PLAN and d["state"] != "draft":
            mark(entry, 0, "D", "#7a8fb0")
        elif kind is TimelineKind.SESSION:
            sirt = d["therapy"] == "sirt"
            label = THERAPY_TEXT[d["therapy"]]
            if sirt and d["delivered_activity_gbq"] is not None:
                label += f" {format_value(d['delivered_activity_gbq'])} GBq"
            mark(entry, 1, "*" if sirt else "o", "#1b7f3b" if sirt else "#b7791f", label)
        elif kind is TimelineKind.RESPONSE:
            mark(entry, 2, "o", "#6b46c1", str(d["overall"]))
        elif kind is TimelineKind.ADVERSE_EVENT:
            colour = "#b42318" if d["grade"] >= 3 else "#f08c00"
            mark(entry, 3, "v", colour, f"G{d['grade']}", above=True)
        elif kind is TimelineKind.OUTCOME:
            symbol = {"death": "X", "progression": "^", "last-contact": "|"}[d["kind"]]
            mark(entry, 4, symbol, "#333333", "" if d["kind"] == "last-contact" else d["kind"])
    _draw_marks(ax, marks, len(lanes), days_per_pt)
    ax.set_yticks(range(len(lanes)), list(reversed(lanes)), fontsize=7)
    ax.set_ylim(-0.6, len(lanes) - 0.2)
    ax.set_xlim(
        float(mdates.date2num(start - dt.timedelta(days=margin))),
        float(mdates.date2num(end + dt.timedelta(days=2 * margin))),
    )
    ax.xaxis_date()
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", color="#dddddd", lw=0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.tight_layout(pad=0.3)
    return figure


def _draw_marks(
    ax: Any, marks: list[tuple[int, float, str, str, str, bool]], n_lanes: int, days_per_pt: float
) -> None:
    """Draw the markers; a label that would overlap the lane's previous label or its next
    marker is left out."""
    by_lane: dict[int, list[float]] = {}
    for lane, x, *_ in marks:
        by_lane.setdefault(lane, []).append(x)
    label_end: dict[int, float] = {}  # per lane, where its last label ends (days)
    for lane, x, marker, colour, label, above in marks:
        y = n_lanes - 1 - lane
        ax.scatter([x], [y], marker=marker, s=28, color=colour, zorder=3)
        if not label:
            continue
        width = (8.0 + _LABEL_PT_PER_CHAR * len(label)) * days_per_pt  # offset, text, marker
        left = x - width / 2 if above else x
        following = [other for other in by_lane[lane] if other > x]
        hidden = not above and any(other < left + width for other in following)
        if left < label_end.get(lane, -math.inf) or hidden:
            continue
        label_end[lane] = left + width
        ax.annotate(
            label,
            (x, y),
            xytext=(0, 5) if above else (4, 0),
            textcoords="offset points",
            fontsize=6,
            ha="center" if above else "left",
            va="bottom" if above else "center",
        )


def _table_rows(entries: Sequence[TimelineEntry]) -> list[tuple[str, str, str]]:
    """One row per entry; the responses of one date (one per criteria) share a row."""
    rows: list[tuple[str, str, str]] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        if entry.kind is not TimelineKind.RESPONSE:
            rows.append((entry.date.isoformat(), entry.kind.value, entry.summary))
            index += 1
            continue
        same = [entry]
        while (
            index + len(same) < len(entries)
            and entries[index + len(same)].kind is TimelineKind.RESPONSE
            and entries[index + len(same)].date == entry.date
        ):
            same.append(entries[index + len(same)])
        index += len(same)
        if len(same) == 1:
            rows.append((entry.date.isoformat(), entry.kind.value, entry.summary))
            continue
        parts = []
        for r in same:
            d = r.details
            change = "" if d["target_change_pct"] is None else f" ({d['target_change_pct']:+.1f} %)"
            parts.append(
                f"{CRITERIA_TEXT.get(d['criteria'], d['criteria'])} {d['overall']}{change}"
            )
        new = any(r.details["new_lesions"] for r in same)
        text = "; ".join(parts) + ("; new lesions" if new else "; no new lesions")
        rows.append((entry.date.isoformat(), entry.kind.value, text))
    return rows


def summary_document(line: Timeline, *, created: dt.datetime | None = None) -> ReportDocument:
    """The pathway summary of one patient as a report document.

    Parameters
    ----------
    line : Timeline
        The patient's timeline (:func:`opensirt.registry.timeline.timeline`).
    created : datetime, optional
        The time printed in the footer and stored as the PDF's creation date (aware);
        default now (UTC).

    Returns
    -------
    opensirt.report.ReportDocument
        Key numbers, the pathway figure and table; no signature block.
    """
    entries = line.entries
    caption = f"Pathway, {len(entries)} records in date order"
    if sum(1 + len(e.summary) // _CHARS_PER_LINE for e in entries) > FULL_TABLE_LINES:
        kept = tuple(e for e in entries if not routine(e))
        if len(kept) < len(entries):
            caption = (
                f"Pathway by date: {len(kept)} of {len(entries)} records (routine ones: "
                f"`opensirt registry timeline {line.pseudonym}`)"
            )
        entries = kept
    table = Table(
        ("Date", "Kind", "Summary"),
        tuple(_table_rows(entries)),
        caption=caption,
    )
    diagnosis = _DIAGNOSIS_TEXT.get(line.diagnosis.value, line.diagnosis.value)
    return ReportDocument(
        title="SIRT pathway summary",
        patient_id=line.pseudonym,
        created=created or dt.datetime.now(dt.UTC),
        subtitle=(
            f"{line.sex.value.capitalize()}, born {line.birth_year}; {diagnosis} "
            f"({line.diagnosis.value.upper()}) diagnosed {line.diagnosis_date.isoformat()}"
        ),
        sections=(
            Section("Key numbers", (key_numbers(line),)),
            Section(
                "Pathway",
                (
                    ReportFigure(
                        lambda: pathway_figure(line),
                        (
                            "■ MDT  ◆ approved plan  ★ SIRT  ● other therapy, response  "
                            "▼ adverse event, grade  ▲ progression  ✖ death"
                        ),
                    ),
                    table,
                ),
            ),
        ),
        signature=None,
    )


def write_summaries(
    lines: Sequence[Timeline], path: str | Path, *, created: dt.datetime | None = None
) -> Path:
    """Write the pathway summaries of one or more patients into one PDF (atomically).

    Parameters
    ----------
    lines : sequence of Timeline
        The patients, in the order of the file; each starts on a new page.
    path : str or path-like
        The PDF to write; missing folders are created.
    created : datetime, optional
        As for :func:`summary_document`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    if len(lines) == 1:
        return write_pdf(summary_document(lines[0], created=created), target)
    import pypdfium2 as pdfium

    def write(temporary: Path) -> None:
        merged = pdfium.PdfDocument.new()
        with tempfile.TemporaryDirectory() as folder:
            for number, line in enumerate(lines):
                part = write_pdf(
                    summary_document(line, created=created), Path(folder) / f"{number}.pdf"
                )
                source = pdfium.PdfDocument(part)
                merged.import_pages(source)
                source.close()
        merged.save(temporary)
        merged.close()

    write_atomically(target, write)
    return target
