"""The cohort report: the cohort, response, survival, Cox model and dose-response as a PDF.

:func:`cohort_report` builds a :class:`~opensirt.report.ReportDocument` (rendered by
:func:`opensirt.report.write_pdf`, as the plan report is): the cohort's description, every
table and figure of the analyses, the analyses that were refused and why, then the methods
with their references. Sections from elsewhere (the pooled evidence of the literature) come in
through ``extra_sections``, placed before the methods: the hook for the pooled-evidence
section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from opensirt.analytics.cohort import Cohort
from opensirt.analytics.cox import cox_model
from opensirt.analytics.dose_response import dose_response
from opensirt.analytics.figures import dose_response_figure, km_figure
from opensirt.analytics.response import response_rates
from opensirt.analytics.survival import Endpoint, SurvivalSummary, survival_summary
from opensirt.analytics.tables import (
    cohort_table,
    cox_table,
    dose_response_table,
    fit_title,
    response_table,
    survival_table,
)
from opensirt.errors import InputError
from opensirt.report import Notice, ReportDocument, ReportFigure, Section, Severity
from opensirt.report.document import Block

#: The methods and their references, as the report's last section.
METHODS: tuple[str, ...] = (
    "Response: best overall response per patient under the criteria of each row (RECIST 1.1, "
    "Eisenhauer et al. 2009, doi:10.1016/j.ejca.2008.10.026; mRECIST, Lencioni & Llovet 2010, "
    "doi:10.1055/s-0030-1247132; EASL, Bruix et al. 2001, doi:10.1016/s0168-8278(01)00130-1). "
    "ORR = CR + PR, DCR = CR + PR + SD, over every patient with a best response (NE "
    "included), with exact Clopper-Pearson 95 % intervals (Clopper & Pearson 1934, "
    "doi:10.1093/biomet/26.4.404).",
    "Survival: Kaplan-Meier estimates (Kaplan & Meier 1958, "
    "doi:10.1080/01621459.1958.10501452) from the first SIRT, with pointwise 95 % intervals "
    "from Greenwood's variance on the log(-log) scale (Kalbfleisch & Prentice 2002, "
    "doi:10.1002/9781118032985). The median's 95 % interval is read where that band crosses "
    "50 % (Brookmeyer & Crowley 1982, doi:10.2307/2530286); NR: not reached. Groups are "
    "compared with the log-rank test (Peto & Peto 1972, doi:10.2307/2344317). Median follow-up "
    "by the reverse Kaplan-Meier method (Schemper & Smith 1996, "
    "doi:10.1016/0197-2456(96)00075-X). Computed with lifelines (Davidson-Pilon 2019, "
    "doi:10.21105/joss.01317).",
    "Cox model: proportional hazards (Cox 1972, doi:10.1111/j.2517-6161.1972.tb00899.x) with "
    "Efron's ties (doi:10.1080/01621459.1977.10480613), Wald 95 % intervals; the "
    "proportional-hazards assumption is tested per term on the scaled Schoenfeld residuals "
    "against the rank of time (Grambsch & Therneau 1994, doi:10.1093/biomet/81.3.515).",
    "Dose-response: logistic regression by maximum likelihood (statsmodels; Seabold & "
    "Perktold 2010) of response (CR/PR, NE left out) on the tumour mean dose, and of liver "
    "toxicity (CTCAE v5.0 grade >= 3) on the normal-liver mean dose (NTCP). D50 = -b0/b1 with "
    "a delta-method 95 % interval (Oehlert 1992, doi:10.1080/00031305.1992.10475842). BED of "
    "the mean dose for Y-90 with the parameters of Strigari et al. 2010 "
    "(doi:10.2967/jnumed.110.075861). A fit is refused below 10 patients or 5 patients in "
    "either class (Vittinghoff & McCulloch 2007, doi:10.1093/aje/kwk052).",
)


def _survival_section(cohort: Cohort, endpoint: Endpoint, group_by: str | None) -> Section:
    try:
        summary = survival_summary(cohort, endpoint, group_by=group_by)
    except InputError as exc:
        return Section(endpoint.label, (Notice(str(exc), Severity.INFO),))
    caption = f"{endpoint.label}: Kaplan-Meier with 95 % bands, | censored"
    figure = ReportFigure(lambda: km_figure(cohort, endpoint, group_by=group_by), caption)
    return Section(endpoint.label, (survival_table(summary), figure))


def _cox_section(cohort: Cohort, covariates: Sequence[str]) -> Section:
    blocks: list[Block] = []
    for endpoint in Endpoint:
        try:
            blocks.append(cox_table(cox_model(cohort, covariates, endpoint)))
        except InputError as exc:
            blocks.append(Notice(f"{endpoint.label}: {exc}", Severity.INFO))
    intro = (
        f"Covariates: {', '.join(covariates)}. A PH test p below 0.05 says the hazard ratio "
        "changes with time: read it as an average over the follow-up."
    )
    return Section("Cox proportional hazards", (intro, *blocks))


def _dose_section(cohort: Cohort) -> Section:
    summary = dose_response(cohort)
    blocks: list[Block] = [dose_response_table(summary)]
    for fit in summary.fits:
        caption = (
            f"{fit_title(fit.outcome, fit.measure)}: logistic fit, 95 % band, observed "
            "proportions in dose quintiles with exact intervals"
        )
        blocks.append(ReportFigure(partial(dose_response_figure, fit), caption))
    reasons = dict.fromkeys(reason for _, _, reason in summary.refused)
    blocks += [Notice(reason, Severity.INFO) for reason in reasons]
    return Section("Dose-response", tuple(blocks))


def _response_section(cohort: Cohort, group_by: str | None) -> Section:
    try:
        summary = response_rates(cohort, group_by=group_by)
    except InputError as exc:
        return Section("Response", (Notice(str(exc), Severity.INFO),))
    note = (
        f"{summary.not_assessed} patients without a recorded best response are left out."
        if summary.not_assessed
        else "Every patient has a recorded best response."
    )
    return Section("Response", (response_table(summary), note))


def cohort_report(
    cohort: Cohort,
    *,
    group_by: str | None = "group",
    covariates: Sequence[str] = (),
    extra_sections: Sequence[Section] = (),
    created: dt.datetime | None = None,
) -> ReportDocument:
    """The cohort report as a document.

    Parameters
    ----------
    cohort : Cohort
        The cohort table.
    group_by : str or None
        The column of the groups (default ``"group"``).
    covariates : sequence of str
        Covariates of the Cox models (none: no Cox section).
    extra_sections : sequence of Section
        The hook for sections built elsewhere (the pooled evidence of
        ``opensirt.analytics.pooled``), placed before the methods.
    created : datetime, optional
        The report's time (aware); default now (UTC).

    Returns
    -------
    opensirt.report.ReportDocument
        Ready for :func:`opensirt.report.write_pdf`.
    """
    try:
        os_summary: SurvivalSummary | None = survival_summary(cohort, group_by=None)
    except InputError:
        os_summary = None
    sections = [
        Section("Cohort", (cohort_table(cohort, os_summary),)),
        _response_section(cohort, group_by),
        *(_survival_section(cohort, e, group_by) for e in Endpoint),
    ]
    if covariates:
        sections.append(_cox_section(cohort, covariates))
    sections += [_dose_section(cohort), *extra_sections, Section("Methods", METHODS)]
    return ReportDocument(
        title="SIRT cohort outcomes",
        patient_id=f"{cohort.n} patients",
        subject_label="Cohort",
        created=created or dt.datetime.now(dt.UTC),
        subtitle=f"Source: {cohort.source}; groups: {group_by or 'none'}",
        sections=tuple(sections),
        signature=None,
    )
