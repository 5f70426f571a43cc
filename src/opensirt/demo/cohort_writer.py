"""The synthetic cohort into the registry, through the writer, many patients per flush."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from sqlalchemy.orm import Session

from opensirt.demo.cohort import SyntheticPatient
from opensirt.registry import audit, store
from opensirt.registry.writer import add_patients, write_records

#: Patients added per flush: large enough that each table's rows go in few statements.
CHUNK_PATIENTS = 250


def write_cohort(
    session: Session, people: Iterable[SyntheticPatient], *, chunk: int = CHUNK_PATIENTS
) -> Iterator[tuple[int, int]]:
    """Write synthetic patients and their records in the caller's transaction.

    Every record passes :func:`opensirt.registry.writer.write_records` (every rule checked);
    the rows of ``chunk`` patients are sent to the database together, and recorded in the audit
    log per patient (:func:`opensirt.registry.audit.bulk`).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    people : iterable of SyntheticPatient
        From :func:`opensirt.demo.cohort.synthetic_cohort`.
    chunk : int, optional
        Patients per flush.

    Yields
    ------
    tuple of int
        After each chunk: the patients and the records written in it.

    Raises
    ------
    InputError
        If a pseudonym exists already or a record breaks a rule.
    """
    remaining = iter(people)
    while group := tuple(islice(remaining, chunk)):
        with audit.bulk(session):
            rows = add_patients(session, [p.patient for p in group])
            records = sum(
                write_records(session, p.records, patient=row, flush=False)
                for p, row in zip(group, rows, strict=True)
            )
            store.flush(session, "synthetic patients")
        yield len(group), records
