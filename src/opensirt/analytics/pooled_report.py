"""The pooled-evidence section of the cohort report: table, forest plot and methods.

:func:`pooled_section` gives it as a :class:`~opensirt.report.document.Section` for a
:class:`~opensirt.report.document.ReportDocument`; :func:`pooled_flowables` gives the same
content as ReportLab flowables, for a story assembled by hand. :func:`pooled_rows` is the
table both use (and the command line prints).
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Spacer, TableStyle
from reportlab.platypus import Table as PlatypusTable

from opensirt.analytics.pooled import Outcome, PooledResult
from opensirt.analytics.pooled_plot import fit_text, forest_figure
from opensirt.analytics.published import CohortResponse
from opensirt.report.document import ReportFigure, Section, Table
from opensirt.report.story import column_widths, figure_drawing, paragraph
from opensirt.report.styles import ACCENT, CAPTION, HEADING, RULE, TABLE_HEAD, TABLE_TEXT

#: Columns of :func:`pooled_rows`.
COLUMNS = ("Study", "n", "Estimate [95 % CI]", "Weight")

#: The methods paragraph, with its references.
METHODS = (
    "Random-effects meta-analysis by inverse variance. Response rates are pooled on the logit "
    "or the Freeman-Tukey double-arcsine scale (Freeman & Tukey 1950, "
    "doi:10.1214/aoms/1177729756), the latter brought back with Miller's inversion at the "
    "harmonic mean of the study sizes (Miller 1978, doi:10.1080/00031305.1978.10479283); "
    "median survival on the log scale with its standard error from the published 95 % "
    "interval. Between-study variance tau² by DerSimonian & Laird (1986, "
    "doi:10.1016/0197-2456(86)90046-2) or REML (Viechtbauer 2005, "
    "doi:10.3102/10769986030003261); I² after Higgins & Thompson (2002, doi:10.1002/sim.1186); "
    "prediction interval after Higgins, Thompson & Spiegelhalter (2009, "
    "doi:10.1111/j.1467-985X.2008.00552.x). Study and cohort intervals of a proportion are "
    "exact (Clopper & Pearson 1934). Every published number is traced to its source in the "
    "bundled table (column source_note)."
)


def _interval(outcome: Outcome, value: float, low: float, high: float) -> str:
    if outcome is Outcome.ORR:
        return f"{100 * value:.1f} % [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{value:.1f} mo [{low:.1f}, {high:.1f}]"


def pooled_rows(
    result: PooledResult, cohort: CohortResponse | None = None
) -> list[tuple[str, str, str, str]]:
    """The table of studies, the pooled estimate, its prediction interval and the cohort.

    Parameters
    ----------
    result : PooledResult
        The pooled estimate.
    cohort : CohortResponse, optional
        A centre's own response rate.

    Returns
    -------
    list of tuple of str
        One row per line, with the cells of :data:`COLUMNS`.
    """
    o = result.outcome
    rows = [
        (s.label, str(s.n), _interval(o, s.value, s.ci_low, s.ci_high), f"{100 * s.weight:.1f} %")
        for s in result.studies
    ]
    total = sum(s.n for s in result.studies)
    pooled = _interval(o, result.estimate, result.ci_low, result.ci_high)
    rows.append(
        (f"Pooled, random effects ({result.model.method.upper()})", str(total), pooled, "100 %")
    )
    if result.pi_low is not None and result.pi_high is not None:
        scale, unit = (100.0, " %") if o is Outcome.ORR else (1.0, " mo")
        pi = f"{scale * result.pi_low:.1f} to {scale * result.pi_high:.1f}{unit}"
        rows.append(("95 % prediction interval (a new study)", "", pi, ""))
    if cohort is not None:
        text = _interval(Outcome.ORR, cohort.rate, cohort.ci_low, cohort.ci_high)
        rows.append((cohort.label, str(cohort.n), text, ""))
    return rows


def _caption(result: PooledResult) -> str:
    what = "objective response rate" if result.outcome is Outcome.ORR else "median overall survival"
    return f"Published SIRT series: pooled {what}. {fit_text(result)}."


def pooled_section(
    result: PooledResult, cohort: CohortResponse | None = None, title: str = "Pooled evidence"
) -> Section:
    """The pooled-evidence section: methods, table, forest plot and the series left out.

    Parameters
    ----------
    result : PooledResult
        The pooled estimate.
    cohort : CohortResponse, optional
        A centre's own response rate, shown beside the pooled estimate.
    title : str
        Section heading.

    Returns
    -------
    Section
        Ready for a :class:`~opensirt.report.document.ReportDocument`.
    """
    blocks: list[str | Table | ReportFigure] = [
        METHODS,
        Table(COLUMNS, tuple(pooled_rows(result, cohort)), caption=_caption(result)),
        ReportFigure(lambda: forest_figure(result, cohort), caption=_caption(result)),
    ]
    if result.excluded:
        blocks.append("Series of this indication left out: " + "; ".join(result.excluded) + ".")
    return Section(title, tuple(blocks))


def pooled_flowables(
    result: PooledResult,
    cohort: CohortResponse | None,
    width_pt: float,
    height_pt: float,
    title: str = "Pooled evidence",
) -> list[Flowable]:
    """The content of :func:`pooled_section` as ReportLab flowables.

    Parameters
    ----------
    result : PooledResult
        The pooled estimate.
    cohort : CohortResponse or None
        A centre's own response rate.
    width_pt, height_pt : float
        The text frame (points); the forest plot is scaled to its width.
    title : str
        Heading.

    Returns
    -------
    list of Flowable
        Heading, methods, table with caption, forest plot with caption, exclusions.
    """
    table = Table(COLUMNS, tuple(pooled_rows(result, cohort)))
    cells = [[paragraph(c, TABLE_HEAD) for c in table.columns]]
    cells += [[paragraph(c, TABLE_TEXT) for c in row] for row in table.rows]
    style = TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
            # the padding that opensirt.report.story.column_widths allows for
            ("LEFTPADDING", (0, 0), (-1, -1), 4.0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4.0),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ]
    )
    grid = PlatypusTable(cells, colWidths=column_widths(table, width_pt), repeatRows=1, style=style)
    figure = ReportFigure(lambda: forest_figure(result, cohort))
    out: list[Flowable] = [
        paragraph(title, HEADING),
        paragraph(METHODS),
        paragraph(_caption(result), CAPTION),
        grid,
        Spacer(0, 8.0),
        figure_drawing(figure, width_pt, height_pt * 0.8),
    ]
    if result.excluded:
        out.append(paragraph("Series left out: " + "; ".join(result.excluded)))
    return out
