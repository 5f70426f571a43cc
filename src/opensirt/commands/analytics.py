"""``opensirt analytics response | survival | dose-response | report``: cohort outcomes.

Every command reads a cohort table (``--cohort FILE.csv``, the format of
docs/cohort_table.md) or builds it from the registry (``--db``, with the ``--where`` filters
and the ``--criteria`` of ``opensirt registry export-cohort``). Exit codes: 0 success, 2 bad
input (a bad cohort table names the line and the column), 1 unexpected error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from opensirt.commands import analytics_pooled, redosimetry
from opensirt.commands._common import console, emit_json, err_console, exit_codes

if TYPE_CHECKING:
    from opensirt.analytics.cohort import Cohort
    from opensirt.report import Section, Table

analytics_app = typer.Typer(
    name="analytics",
    help="Cohort outcomes: response rates, survival, dose-response and the cohort report, "
    "from a cohort table or the registry.",
    no_args_is_help=True,
)

CohortOption = Annotated[
    Path | None,
    typer.Option("--cohort", help="The cohort table (CSV; see docs/cohort_table.md).",
                 show_default=False),
]  # fmt: skip
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Build the cohort from this registry (a SQLite path or a "
                 "database URL) instead of --cohort.", show_default=False),
]  # fmt: skip
WhereOption = Annotated[
    list[str] | None,
    typer.Option("--where", help="With --db: only patients matching KEY=VALUE (repeatable; "
                 "see `opensirt registry export-cohort --help`).", show_default=False),
]  # fmt: skip
CriteriaOption = Annotated[
    str, typer.Option("--criteria", help="With --db: the response criteria of best_response "
                      "(recist1.1, mrecist, easl).")
]  # fmt: skip
ByOption = Annotated[
    str,
    typer.Option("--by", help="The column whose values form the groups ('group', "
                 "'diagnosis', 'device' ...; 'none' for the whole cohort only)."),
]  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Print the results as JSON.")]
CoxOption = Annotated[
    str | None,
    typer.Option("--cox", help="Comma-separated covariates (column names) of a Cox model, "
                 "e.g. age_years,tumour_dose_gy,diagnosis.", show_default=False),
]  # fmt: skip


def load_cohort(
    cohort: Path | None, db: str | None, where: list[str] | None, criteria: str
) -> Cohort:
    """The cohort of a command: the table of ``--cohort``, or the registry's of ``--db``.

    Parameters
    ----------
    cohort : pathlib.Path or None
        The cohort table.
    db : str or None
        The registry.
    where : list of str or None
        ``--where`` clauses (with ``--db`` only).
    criteria : str
        The response criteria (with ``--db``).

    Returns
    -------
    opensirt.analytics.cohort.Cohort
        The checked cohort.

    Raises
    ------
    InputError
        If neither or both sources are given, or the cohort is bad.
    """
    from opensirt.analytics.cohort import read_cohort
    from opensirt.errors import InputError

    if (cohort is None) == (db is None):
        raise InputError("give the cohort as --cohort FILE.csv or as --db REGISTRY (one of them)")
    if cohort is not None:
        if where:
            raise InputError("--where filters the registry (--db); filter the CSV beforehand")
        return read_cohort(cohort)
    from opensirt.analytics.cohort_export import export_cohort, parse_where
    from opensirt.registry.database import open_registry

    registry = open_registry(db)
    try:
        with registry.transaction() as session:
            return export_cohort(session, parse_where(where or []), criteria=criteria)
    finally:
        registry.dispose()


def show_table(table: Table) -> None:
    """Print a report table as a rich table (numbers right-aligned).

    Parameters
    ----------
    table : opensirt.report.Table
        The table.
    """
    from rich.table import Table as RichTable

    from opensirt.report.story import column_alignment

    shown = RichTable(title=escape(table.caption), title_justify="left", header_style="bold")
    for name, align in zip(table.columns, column_alignment(table), strict=True):
        shown.add_column(escape(name), justify=align.value)
    for row in table.rows:
        shown.add_row(*(escape(cell) for cell in row))
    console.print(shown)


def _group(by: str) -> str | None:
    return None if by.lower() == "none" else by


def response(
    cohort: CohortOption = None, db: DbOption = None, where: WhereOption = None,
    criteria: CriteriaOption = "recist1.1", by: ByOption = "group", as_json: JsonOption = False,
) -> None:  # fmt: skip
    """ORR (CR+PR) and DCR (CR+PR+SD) per response criterion, overall and per group, with
    exact Clopper-Pearson 95 % intervals.

    \b
    Examples:
      opensirt analytics response --cohort cohort.csv
      opensirt analytics response --db demo.sqlite3 --criteria mrecist --by device --json
    """
    from opensirt.analytics.response import response_rates
    from opensirt.analytics.tables import response_table

    with exit_codes():
        summary = response_rates(load_cohort(cohort, db, where, criteria), group_by=_group(by))
        if as_json:
            emit_json(summary.to_dict())
            return
        show_table(response_table(summary))
        if summary.not_assessed:
            console.print(f"{summary.not_assessed} patients without a best response left out.")


def _times(text: str) -> tuple[float, ...]:
    from opensirt.errors import InputError

    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise InputError(
            f"--times {text!r}: expected months separated by commas, e.g. 6,12,24"
        ) from None
    if not values or min(values) < 0:
        raise InputError(f"--times {text!r}: expected months >= 0 separated by commas")
    return values


def _covariates(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def survival(
    cohort: CohortOption = None, db: DbOption = None, where: WhereOption = None,
    criteria: CriteriaOption = "recist1.1", by: ByOption = "group",
    times: Annotated[str, typer.Option("--times", help="Landmark times, months.")] = "6,12,24",
    cox: CoxOption = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Write the Kaplan-Meier figures as PLOT-os.svg/.png and PLOT-pfs.svg/.png.",
        show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Kaplan-Meier OS and PFS, overall and per group: median with its 95 % interval
    (Brookmeyer-Crowley, log(-log) band), survival at the landmark times, the log-rank test;
    with --cox, a Cox model with hazard ratios and the proportional-hazards test.

    \b
    Examples:
      opensirt analytics survival --cohort cohort.csv --plot figures/km
      opensirt analytics survival --db demo.sqlite3 --by diagnosis --cox age_years,diagnosis
    """
    from opensirt.analytics.cox import cox_model
    from opensirt.analytics.figures import km_figure, save_figure
    from opensirt.analytics.survival import Endpoint, survival_summary
    from opensirt.analytics.tables import cox_table, survival_table

    with exit_codes():
        data = load_cohort(cohort, db, where, criteria)
        months = _times(times)
        group_by = _group(by)
        results: dict[str, Any] = {}
        tables = []
        for endpoint in Endpoint:
            summary = survival_summary(data, endpoint, group_by=group_by, months=months)
            results[endpoint.value] = summary.to_dict()
            tables.append(survival_table(summary))
        for endpoint in Endpoint if cox else ():
            model = cox_model(data, _covariates(cox), endpoint)
            results[f"cox_{endpoint.value}"] = model.to_dict()
            tables.append(cox_table(model))
        written: list[Path] = []
        if plot is not None:
            for endpoint in Endpoint:
                figure = km_figure(data, endpoint, group_by=group_by)
                written += save_figure(figure, plot.with_name(f"{plot.name}-{endpoint.value}"))
        if as_json:
            emit_json(results)
        else:
            for table in tables:
                show_table(table)
        for path in written:
            err_console.print(f"Wrote {escape(str(path))}")


def dose_response(
    cohort: CohortOption = None, db: DbOption = None, where: WhereOption = None,
    criteria: CriteriaOption = "recist1.1",
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Write each fit's figure as PLOT-OUTCOME-MEASURE.svg/.png.",
        show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Logistic dose-response of response (CR/PR) against the tumour mean dose and BED, and
    NTCP of liver toxicity (grade >= 3) against the normal-liver dose and BED, with D50 and
    its delta-method interval. A fit the cohort is too small for is refused, with the reason.

    \b
    Examples:
      opensirt analytics dose-response --cohort cohort.csv --plot figures/dose
    """
    from opensirt.analytics.dose_response import dose_response as fit_all
    from opensirt.analytics.figures import dose_response_figure, save_figure
    from opensirt.analytics.tables import dose_response_table

    with exit_codes():
        summary = fit_all(load_cohort(cohort, db, where, criteria))
        written: list[Path] = []
        for fit in summary.fits if plot is not None else ():
            assert plot is not None
            stem = plot.with_name(f"{plot.name}-{fit.outcome.value}-{fit.measure.value}")
            written += save_figure(dose_response_figure(fit), stem)
        if as_json:
            emit_json(summary.to_dict())
        else:
            show_table(dose_response_table(summary))
            for reason in dict.fromkeys(why for _, _, why in summary.refused):
                console.print(f"[bold]Refused:[/] {escape(reason)}")
        for path in written:
            err_console.print(f"Wrote {escape(str(path))}")


def extra_report_sections(cohort: Cohort) -> list[Section]:
    """The cohort report's pooled evidence: for each diagnosis of the cohort that at least two
    published series of the bundled table report responders for, the series pooled (random
    effects, DerSimonian-Laird on the logit scale) with the cohort's own response rate beside
    the pooled estimate.

    Parameters
    ----------
    cohort : opensirt.analytics.cohort.Cohort
        The cohort the report is about.

    Returns
    -------
    list of opensirt.report.Section
        The sections, placed before the methods (none when no diagnosis has published series
        to pool, or no patient of it has a best response).
    """
    from opensirt.analytics.pooled_report import pooled_section
    from opensirt.analytics.published import INDICATIONS, cohort_response, pool_published
    from opensirt.analytics.response import RATE_RESPONSES
    from opensirt.errors import InputError

    sections: list[Section] = []
    frame = cohort.frame
    for diagnosis in sorted(set(frame["diagnosis"]) & set(INDICATIONS)):
        best = frame.loc[frame["diagnosis"] == diagnosis, "best_response"]
        best = best[best != ""]
        try:
            pooled = pool_published(diagnosis)
        except InputError:  # fewer than two published series to pool
            continue
        own = (
            cohort_response(int(best.isin(RATE_RESPONSES["ORR"]).sum()), len(best), "this cohort")
            if len(best)
            else None
        )
        sections.append(pooled_section(pooled, own, f"Pooled evidence: {diagnosis.upper()}"))
    return sections


def report(
    out: Annotated[Path, typer.Argument(help="The PDF to write.")],
    cohort: CohortOption = None, db: DbOption = None, where: WhereOption = None,
    criteria: CriteriaOption = "recist1.1", by: ByOption = "group", cox: CoxOption = None,
    png: Annotated[Path | None, typer.Option(
        "--png", help="Also render every page as PNG into this folder, for review.",
        show_default=False)] = None,
) -> None:  # fmt: skip
    """The cohort report (PDF): the cohort, response, survival (with --cox, Cox models),
    dose-response, every table and figure, the methods with references.

    \b
    Examples:
      opensirt analytics report cohort.pdf --cohort cohort.csv --cox age_years,diagnosis
      opensirt analytics report cohort.pdf --db demo.sqlite3 --where diagnosis=hcc --png pages
    """
    from opensirt.analytics.report import cohort_report
    from opensirt.report import render_png_pages, write_pdf

    with exit_codes():
        data = load_cohort(cohort, db, where, criteria)
        document = cohort_report(
            data, group_by=_group(by), covariates=_covariates(cox),
            extra_sections=extra_report_sections(data),
        )  # fmt: skip
        written = write_pdf(document, out)
        console.print(f"Wrote {escape(str(written))}")
        if png is not None:
            pages = render_png_pages(written, png)
            console.print(f"Rendered {len(pages)} pages into {escape(str(png))}")


def register(app: typer.Typer) -> None:
    """Add ``opensirt analytics`` and its subcommands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The root command-line application.
    """
    analytics_app.command("response")(response)
    analytics_app.command("survival")(survival)
    analytics_app.command("dose-response")(dose_response)
    analytics_app.command("report")(report)
    analytics_pooled.register(analytics_app)
    redosimetry.register(analytics_app)
    app.add_typer(analytics_app)
