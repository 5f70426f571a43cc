"""One wording for what each reported dose is, shared by the reports, the terminal and JSON.

Three lung doses are shown (EANM 2022, Weber et al., doi:10.1007/s00259-021-05600-z):

* the partition lung dose, the MIRD/partition formula D = k A LSF / M_lung with the activity
  that reaches the patient (Gulec et al. 2006, doi:10.1186/1479-5876-4-17);
* the voxel mean lung dose, the mean of the voxel dose over the lung structure;
* the verified lung dose, the partition formula with the delivered activity and the lung shunt
  measured on the post-treatment image.

And three doses per structure in a verification: the prediction as planned (the voxel dose of
the planned activity), the prediction scaled to the delivered activity (the same dose per GBq
times the activity actually delivered, what the delivered dose is compared with), and the
delivered dose (from the post-treatment image).
"""

from __future__ import annotations

#: The delivered dose: its one label.
DELIVERED_LABEL = "delivered (post-treatment image)"

#: Voxel mean lung dose.
VOXEL_MEAN_LUNG_DOSE = (
    "voxel mean lung dose: the mean of the voxel dose (the activity that the emission image "
    "shows, by the dose method named with it) over the lung structure"
)

#: Verified lung dose.
VERIFIED_LUNG_DOSE = (
    "verified lung dose: the partition lung dose of the delivered activity with the lung "
    "shunt fraction measured on the post-treatment image"
)


def _gbq(activity_gbq: float | None) -> str:
    return "refused plan" if activity_gbq is None else f"{activity_gbq:.3f} GBq"


def as_planned_label(planned_gbq: float | None) -> str:
    """``"predicted as planned (1.944 GBq)"``: the prediction for the planned activity.

    Parameters
    ----------
    planned_gbq : float or None
        The planned activity to inject (GBq); ``None`` for a refused plan.

    Returns
    -------
    str
        The label, e.g. ``"predicted as planned (refused plan)"``.
    """
    return f"predicted as planned ({_gbq(planned_gbq)})"


def scaled_label(delivered_gbq: float) -> str:
    """``"predicted scaled to the delivered activity (1.850 GBq)"``.

    Parameters
    ----------
    delivered_gbq : float
        The activity delivered to the patient (GBq), vial minus residual at injection.

    Returns
    -------
    str
        The label of the prediction scaled to that activity.
    """
    return f"predicted scaled to the delivered activity ({_gbq(delivered_gbq)})"


def partition_lung_dose_definition(lung_mass_kg: float) -> str:
    """The partition lung dose's definition, with the lung mass used (kg).

    Parameters
    ----------
    lung_mass_kg : float
        The lung mass the dose was computed with (kg), written into the definition.

    Returns
    -------
    str
        One sentence: the formula, its terms and the lung mass.

    Examples
    --------
    >>> partition_lung_dose_definition(1.0)[:40]
    'partition lung dose: D = k x A x LSF / M'
    """
    return (
        "partition lung dose: D = k x A x LSF / M_lung, the MIRD/partition formula (k the "
        "dose constant in Gy kg/GBq, A the activity reaching the patient, after the residual, "
        f"LSF the lung shunt fraction, M_lung = {lung_mass_kg:.3g} kg the lung mass used)"
    )


def lung_dose_definitions(lung_mass_kg: float, *, voxel: bool, verified: bool) -> str:
    """One line defining each lung dose shown: partition, voxel mean (if ``voxel``), verified.

    Parameters
    ----------
    lung_mass_kg : float
        The lung mass of the partition lung dose (kg).
    voxel : bool
        Whether the voxel mean lung dose is shown (a plan from images).
    verified : bool
        Whether the verified lung dose is shown (a verification).

    Returns
    -------
    str
        ``"Lung doses: ..."``, the definitions separated by semicolons.
    """

    terms = [partition_lung_dose_definition(lung_mass_kg)]
    terms += [VOXEL_MEAN_LUNG_DOSE] if voxel else []
    terms += [VERIFIED_LUNG_DOSE] if verified else []
    return "Lung doses: " + "; ".join(terms) + "."
