"""De-identification of an exchange bundle, after DICOM PS3.15 Annex E.

The rules follow the Basic Application Level Confidentiality Profile of DICOM PS3.15 Annex E
(table E.1-1) with two of its options, as they apply to a registry record rather than a DICOM
header:

* **Retain Longitudinal Temporal Information with Modified Dates Option** (E.3.6): every date
  and time of the patient is shifted by one offset, drawn per export from the operating
  system's CSPRNG (:mod:`secrets`), so intervals (diagnosis to treatment, treatment to
  progression, survival) are kept exactly. The shift is into the past by
  :data:`MIN_SHIFT_DAYS` to :data:`MAX_SHIFT_DAYS` days (never into the future, which the
  registry refuses); the time of day is kept. The birth year moves with the dates (the
  1 July of the birth year shifted by the offset), so ages stay within a year.
* **Retain Patient Characteristics Option** (E.3.10): sex, diagnosis, labs, findings and
  scores are kept; they are the data the bundle exists for.
* **Patient ID** (0010,0020, action Z/D): the pseudonym is replaced by a new random id.
* **UIDs** (Study and Series Instance UID, action U): the original UIDs are dropped; each is
  replaced by a new random UID (``2.25.`` and a 128-bit random integer, PS3.5 B.2), the same
  original UID by the same new one, so studies and series stay distinguishable.
* **Free text** (descriptions, comments, Additional Patient History: action X): the MDT's
  rationale and its ``assess`` snapshot, monitoring notes, text observations, the cause of
  death, treatment details other than numbers, the (shifted) injection time, the vials
  (activity kept, assay time shifted) and coded names (``device``, ``drug``, ``agent``,
  ``regimen``, ``beads``), the plans' case files and result JSON, text in the plans'
  limits other than coded names (``name``, ``structure``, ``quantity``, ``unit``), the
  verifications' result JSON and the report and RTDOSE paths
  are removed.
* **Names of staff** (Operators' Name, Performing Physician's Name: action X/Z): the plan's
  author and signers are replaced by ``user-1``, ``user-2`` ..., one per person, so the rule
  "two different people sign" still holds.
* **Other identifiers**: the input fingerprint (a SHA-256 of the plan's inputs, which could
  find the original files) is replaced by a random one, consistently within the bundle.

Differences from Annex E: coded short names that a person types (plan labels, territories,
lesion ids, structure names, CTCAE terms) are kept, as the profile keeps coded values; a site
that writes identifying text into them must clean them first. Ages above 89 are not
aggregated (no age is stored; the birth year is).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from opensirt.registry.bundle import Bundle

#: The smallest and largest shift of the dates into the past (days).
MIN_SHIFT_DAYS = 30
MAX_SHIFT_DAYS = 730

#: Treatment-detail keys whose text values are coded names and are kept.
KEPT_DETAIL_TEXT = frozenset({"device", "drug", "agent", "regimen", "beads"})

#: Keys of a plan's limits whose text values are coded names and are kept.
KEPT_LIMIT_TEXT = frozenset({"name", "structure", "quantity", "unit"})

#: What a de-identified bundle says about itself (its ``deidentification`` field).
METHOD = (
    "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile with the Retain "
    "Longitudinal Temporal Information with Modified Dates and Retain Patient Characteristics "
    "options; dates shifted by one random offset; see docs/registry_bundle.md"
)


def draw_shift_days() -> int:
    """A random date shift, drawn from the operating system's CSPRNG.

    Returns
    -------
    int
        Days to subtract from every date, uniform in
        [:data:`MIN_SHIFT_DAYS`, :data:`MAX_SHIFT_DAYS`].
    """
    return MIN_SHIFT_DAYS + secrets.randbelow(MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1)


def new_pseudonym() -> str:
    """A new random patient id: ``DEID-`` and 16 hexadecimal digits (64 random bits).

    Returns
    -------
    str
        The id.
    """
    return f"DEID-{secrets.token_hex(8).upper()}"


def new_uid() -> str:
    """A new random DICOM UID: ``2.25.`` and a 128-bit random integer (DICOM PS3.5 B.2).

    Returns
    -------
    str
        The UID (at most 44 characters).
    """
    return f"2.25.{secrets.randbits(128)}"


class _Replacer:
    """The same replacement for the same original value, within one bundle."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._seen: dict[str, str] = {}

    def __call__(self, value: str | None) -> str | None:
        if value is None:
            return None
        if value not in self._seen:
            self._seen[value] = self._make(len(self._seen) + 1)
        return self._seen[value]


def deidentify(
    bundle: Bundle, *, shift_days: int | None = None, pseudonym: str | None = None
) -> Bundle:
    """A de-identified copy of a bundle (the rules are in the module's docstring).

    Parameters
    ----------
    bundle : Bundle
        The bundle as exported.
    shift_days : int, optional
        Days to move every date into the past (default: :func:`draw_shift_days`); must lie in
        [:data:`MIN_SHIFT_DAYS`, :data:`MAX_SHIFT_DAYS`].
    pseudonym : str, optional
        The new patient id (default: :func:`new_pseudonym`).

    Returns
    -------
    Bundle
        The de-identified bundle, validated again; ``deidentification`` names the method.

    Raises
    ------
    ValueError
        If ``shift_days`` is outside the documented range.
    """
    days = draw_shift_days() if shift_days is None else shift_days
    if not MIN_SHIFT_DAYS <= days <= MAX_SHIFT_DAYS:
        raise ValueError(f"shift_days {days} is outside {MIN_SHIFT_DAYS}-{MAX_SHIFT_DAYS}")
    offset = dt.timedelta(days=days)
    new_id = pseudonym or new_pseudonym()
    uid = _Replacer(lambda _: new_uid())
    user = _Replacer(lambda n: f"user-{n}")
    fingerprint = _Replacer(lambda _: secrets.token_hex(32))

    def day(value: str | None) -> str | None:
        return None if value is None else (dt.date.fromisoformat(value) - offset).isoformat()

    def time(value: str) -> str:
        return (dt.datetime.fromisoformat(value) - offset).isoformat()

    data = bundle.model_dump(mode="json")
    patient = data["patient"]
    born = dt.date(patient["birth_year"], 7, 1) - offset
    diagnosed = dt.date.fromisoformat(patient["diagnosis_date"]) - offset
    patient.update(
        patient=new_id,
        birth_year=min(born.year, diagnosed.year),
        diagnosis_date=diagnosed.isoformat(),
        site=None,  # the hospital: Institution Name (0008,0080), removed (X)
    )
    for name in Bundle.model_fields:
        if not isinstance(data[name], list):
            continue
        for record in data[name]:
            record["patient"] = new_id
            record["date"] = day(record["date"])
            for key in ("resolved", "session_date"):
                if key in record:
                    record[key] = day(record[key])
    for mdt in data["mdt_decisions"]:
        mdt.update(rationale="", assessment=None)
    for study in data["imaging_studies"]:
        study.update(study_uid=uid(study["study_uid"]), series_uid=uid(study["series_uid"]))
    for version in data["plan_versions"]:
        version.update(
            case_yaml="",
            result_json="{}",
            report_path=None,
            rtdose_path=None,
            input_fingerprint=fingerprint(version["input_fingerprint"]),
            created_by=user(version["created_by"]),
            limits=[
                {k: v for k, v in limit.items() if not isinstance(v, str) or k in KEPT_LIMIT_TEXT}
                for limit in version["limits"]
            ],
        )
        for signature in version["signatures"]:
            signature.update(
                user_name=user(signature["user_name"]), signed_at=time(signature["signed_at"])
            )
    for treated in data["sessions"]:
        details = treated["details"]
        if isinstance(details.get("injected_at"), str):
            details["injected_at"] = time(details["injected_at"])
        if isinstance(details.get("vials"), list):  # SIRT vials: activity kept, assay time shifted
            details["vials"] = [
                {"activity_gbq": vial["activity_gbq"], "assayed_at": time(vial["assayed_at"])}
                for vial in details["vials"]
            ]
        treated["details"] = {
            key: value
            for key, value in details.items()
            if isinstance(value, int | float | bool)
            or value is None
            or key in KEPT_DETAIL_TEXT
            or key in ("injected_at", "vials")
        }
    for watched in data["monitoring"]:
        watched.update(
            start=time(watched["start"]),
            end=time(watched["end"]),
            notes="",
            observations=[
                {k: v for k, v in entry.items() if not isinstance(v, str)}
                for entry in watched["observations"]
            ],
        )
    for verified in data["verifications"]:
        verified["result_json"] = "{}"
    for outcome in data["outcomes"]:
        outcome["cause"] = None
    data["deidentification"] = METHOD
    return Bundle.model_validate(data)
