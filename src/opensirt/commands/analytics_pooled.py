"""``opensirt analytics pooled``: published SIRT series pooled, a centre's cohort beside them.

Exit codes: 0 success, 2 bad input (an unknown option value, too few series, a cohort table
without best_response; the message names the value and the fix).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import console, emit_json, exit_codes, print_rendered, render

if TYPE_CHECKING:
    from opensirt.analytics.pooled import PooledResult
    from opensirt.analytics.published import CohortResponse

_HELP = """Pool published SIRT series (random effects) and put a centre's cohort beside them.

\b
The bundled table of published series (HCC and liver metastases; each number traced to its
source) is pooled for one indication: the objective response rate (CR + PR) on the logit or
Freeman-Tukey scale, or the median overall survival on the log scale (series that give its
95 % interval). tau² by DerSimonian-Laird or REML; I², Q, the 95 % confidence and prediction
intervals. --cohort adds a cohort table's own ORR with its exact 95 % interval.

\b
Examples:
  opensirt analytics pooled
  opensirt analytics pooled --indication all --transform ft --method reml
  opensirt analytics pooled --outcome os --indication all --plot os_forest.png
  opensirt analytics pooled --cohort cohort.csv --plot forest.svg --json

\b
Exit codes: 0 pooled, 2 bad input (the message names the value and the fix).
"""


def register(analytics_app: typer.Typer) -> None:
    """Add ``pooled`` to the ``analytics`` command group.

    Parameters
    ----------
    analytics_app : typer.Typer
        The ``opensirt analytics`` group.
    """
    analytics_app.command("pooled", help=_HELP)(pooled)


def pooled(
    indication: Annotated[
        str, typer.Option("--indication", help="hcc, crc, icc, net, mixed_metastases or all.")
    ] = "hcc",
    outcome: Annotated[
        str, typer.Option("--outcome", help="orr (objective response rate) or os (median OS).")
    ] = "orr",
    method: Annotated[str, typer.Option("--method", help="tau² estimator: dl or reml.")] = "dl",
    transform: Annotated[
        str, typer.Option("--transform", help="Scale of the ORR: logit or ft (Freeman-Tukey).")
    ] = "logit",
    cohort: Annotated[
        Path | None,
        typer.Option("--cohort", help="Cohort CSV whose ORR (best_response) to show beside."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the forest plot (.png or .svg).")
    ] = None,
) -> None:
    """Pool published SIRT series and compare a centre's cohort (see the command's help)."""
    from opensirt.analytics.published import pool_published, read_cohort_response

    with exit_codes():
        if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
            from opensirt.errors import InputError

            raise InputError(f"--plot {plot} must end in .png or .svg")
        result = pool_published(indication, outcome, method=method, transform=transform)
        own = None
        if cohort is not None:
            if result.outcome != "orr":
                from opensirt.errors import InputError

                raise InputError("--cohort compares a response rate; use it with --outcome orr")
            own = read_cohort_response(cohort, indication, label=f"{cohort.stem} (this centre)")
        text = None if as_json else render(lambda: _show(result, own))
        if plot is not None:
            from opensirt.analytics.pooled_plot import forest_figure, save_forest

            save_forest(forest_figure(result, own), plot)
    if as_json:
        emit_json(_as_dict(result, own, plot))
        return
    assert text is not None
    print_rendered(text)
    if plot is not None:
        console.print(f"Forest plot written to {escape(str(plot))}")


def _show(result: PooledResult, own: CohortResponse | None) -> None:
    from opensirt.analytics.pooled_plot import fit_text
    from opensirt.analytics.pooled_report import COLUMNS, pooled_rows

    what = "objective response rate" if result.outcome == "orr" else "median overall survival"
    table = Table(title=f"Published SIRT series: pooled {what}", title_justify="left")
    for name in COLUMNS:
        table.add_column(name, justify="left" if name == "Study" else "right")
    rows = pooled_rows(result, own)
    for index, row in enumerate(rows):
        bold = index >= len(result.studies)
        table.add_row(*(escape(c) for c in row), style="bold" if bold else None)
    console.print(table)
    console.print(escape(fit_text(result)))
    for line in result.excluded:
        console.print(f"[dim]Left out: {escape(line)}[/]")


def _as_dict(result: PooledResult, own: CohortResponse | None, plot: Path | None) -> dict[str, Any]:
    m = result.model
    return {
        "outcome": str(result.outcome),
        "transform": result.transform,
        "method": str(m.method),
        "estimate": result.estimate,
        "ci95": [result.ci_low, result.ci_high],
        "prediction_interval95": None if result.pi_low is None else [result.pi_low, result.pi_high],
        "tau2": m.tau2,
        "i2": m.i2,
        "q": m.q,
        "q_p": m.q_p,
        "k": m.k,
        "studies": [
            {
                "label": s.label,
                "n": s.n,
                "estimate": s.value,
                "ci95": [s.ci_low, s.ci_high],
                "weight": s.weight,
            }
            for s in result.studies
        ],
        "excluded": list(result.excluded),
        "cohort": None
        if own is None
        else {
            "label": own.label,
            "responders": own.responders,
            "n": own.n,
            "rate": own.rate,
            "ci95": [own.ci_low, own.ci_high],
        },
        "plot": None if plot is None else str(plot),
    }
