"""The audit log: who did what to which record, when, in an append-only hash chain.

Every write of the registry is recorded in the same transaction as the write itself, so the
record and its entry commit together or not at all:

* rows inserted, updated or deleted through a session (the writer, the store, the users,
  bundle import, the synthetic cohort) are recorded by a flush hook, one entry per row
  (action ``insert``, ``update`` or ``delete``; entity the table; key the row's id, or the
  pseudonym of a patient and the name of a user), with the SHA-256 of the row's content before
  and after (:func:`content_sha256`);
* actions that write nothing else are recorded by :func:`append`: ``export``, ``import`` (a
  bundle, besides its rows), and the service's ``login``, ``logout`` and ``login-failed``.

The actor is ``session.info["actor"]``
(:meth:`opensirt.registry.database.Registry.transaction`).

The chain: each entry's ``entry_hash`` is the SHA-256 of the canonical JSON (sorted keys, no
white space, UTF-8) of its fields (id, time, actor, action, entity, key, the content hashes,
detail) and ``prev_hash``, the ``entry_hash`` of the entry before it (sixty-four zeros for the
first). Ids run 1, 2, 3 ... without gaps. The one-row table ``audit_head`` holds the number of
entries and the last hash; every appender locks it first (SQLite: the write lock that
``BEGIN IMMEDIATE`` takes; PostgreSQL: ``SELECT ... FOR UPDATE`` of the head row), so
concurrent writers queue and the chain never forks. Database triggers refuse UPDATE and
DELETE on ``audit_log``; should someone bypass them, :func:`verify` names the edited entry,
the missing entries, the broken link, or the removed last entries (against the head).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from opensirt.registry.database import ACTOR_KEY, RegistryError, default_actor
from opensirt.registry.models import Base, Patient
from opensirt.registry.models_access import GENESIS_HASH, AuditEntry

#: ``Session.info`` key of the chain's head as this transaction holds it (locked).
_HEAD = "opensirt.registry.audit.head"

_LOG = Base.metadata.tables["audit_log"]
_HEAD_TABLE = Base.metadata.tables["audit_head"]

#: ``Session.info`` key of the content hashes, before this flush, of the rows it changes.
_BEFORE = "opensirt.registry.audit.before"

#: ``Session.info`` key set while :func:`bulk` is in effect.
_BULK = "opensirt.registry.audit.bulk"

#: The column naming a row in the log, where it is not the id.
_KEY_COLUMN = {"patients": "pseudonym", "users": "user_name"}


class AuditAction(StrEnum):
    """The actions of the audit log."""

    INSERT = "insert"
    BULK_INSERT = "bulk-insert"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    IMPORT = "import"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login-failed"


def _plain(value: Any) -> Any:
    """JSON for the values of columns that JSON lacks."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_json(data: Any) -> str:
    """The canonical JSON of a value: sorted keys, no white space, UTF-8 text.

    Parameters
    ----------
    data : object
        JSON-able data; dates and times become ISO 8601 text, enums their value.

    Returns
    -------
    str
        The JSON text; equal data give equal text.
    """
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _columns(row: Base, *, before: bool = False) -> dict[str, Any]:
    """A row's column values by name; ``before``: as they were before this flush's changes."""
    state = sa.inspect(row)
    values = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if before and history.deleted:
            values[attr.key] = history.deleted[0]
        else:
            values[attr.key] = getattr(row, attr.key)
    return values


def content_sha256(row: Base) -> str:
    """The SHA-256 of a row's content: the canonical JSON of its columns by name.

    Parameters
    ----------
    row : Base
        A row of a registry table (flushed, so that it has its id and defaults).

    Returns
    -------
    str
        The hexadecimal digest, 64 characters.
    """
    return _sha256(canonical_json(_columns(row)))


def _entry_hash(entry: dict[str, Any]) -> str:
    """The hash of an entry: its fields and ``prev_hash``, canonical JSON, SHA-256."""
    return _sha256(canonical_json({k: v for k, v in entry.items() if k != "entry_hash"}))


def _head(session: Session) -> dict[str, Any]:
    """The head of the chain, locked for this transaction (read once per transaction)."""
    head: dict[str, Any] | None = session.info.get(_HEAD)
    if head is None:
        row = (
            session.connection()
            .execute(sa.select(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1).with_for_update())
            .one_or_none()
        )
        if row is None:
            raise RegistryError(
                "the audit log has no head row (audit_head); the registry was not made by "
                "its migrations: run `opensirt registry migrate`"
            )
        head = {"entries": row.entries, "last_hash": row.last_hash}
        session.info[_HEAD] = head
    return head


@event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, previous_transaction: Any) -> None:
    """A rollback (of the transaction or a savepoint) undoes appended entries: re-read."""
    session.info.pop(_HEAD, None)


@event.listens_for(Session, "after_transaction_end")
def _release_head(session: Session, transaction: SessionTransaction) -> None:
    """After the transaction (commit, rollback or close) the lock is gone: read it again."""
    if transaction.parent is None:
        session.info.pop(_HEAD, None)


def _write(session: Session, entries: list[dict[str, Any]]) -> list[str]:
    """Chain and insert entries (fields without id and hashes); their entry hashes."""
    if not entries:
        return []
    head = _head(session)
    actor = (session.info.get(ACTOR_KEY) or default_actor())[:64]
    at = dt.datetime.now(dt.UTC)
    rows = []
    for entry in entries:
        entry.setdefault("actor", actor)
        entry.update(id=head["entries"] + 1, at=at, prev_hash=head["last_hash"])
        entry["entry_hash"] = _entry_hash(
            {**entry, "at": at.isoformat(), "detail": entry.get("detail")}
        )
        head.update(entries=entry["id"], last_hash=entry["entry_hash"])
        rows.append(entry)
    connection = session.connection()
    connection.execute(sa.insert(_LOG), rows)
    connection.execute(
        sa.update(_HEAD_TABLE)
        .where(_HEAD_TABLE.c.id == 1)
        .values(entries=head["entries"], last_hash=head["last_hash"])
    )
    return [row["entry_hash"] for row in rows]


def append(
    session: Session,
    *,
    action: AuditAction | str,
    entity: str,
    key: str,
    actor: str | None = None,
    before: str | Base | None = None,
    after: str | Base | None = None,
    detail: dict[str, Any] | None = None,
) -> str:
    """Append one entry to the audit log, in the caller's transaction.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open (writing) transaction.
    action : AuditAction or str
        What was done (``export``, ``login`` ...; 1-32 characters).
    entity : str
        The kind of record: a table name (``patients``, ``plan_versions``, ``users``).
    key : str
        Which record: its id, a patient's pseudonym, a user's name.
    actor : str, optional
        Who did it; default ``session.info["actor"]``, else the operating-system user.
    before, after : str or Base, optional
        The record's content before and after: a SHA-256 hex digest, or a row whose
        :func:`content_sha256` is taken; ``None`` where there is none.
    detail : dict, optional
        What else is worth knowing (JSON); never a password or a secret.

    Returns
    -------
    str
        The new entry's hash.
    """

    def digest(value: str | Base | None) -> str | None:
        return value if value is None or isinstance(value, str) else content_sha256(value)

    entry = {
        "action": str(action)[:32],
        "entity": entity[:64],
        "entity_key": key[:128],  # a name typed at a failed sign-in may be anything
        "before_sha256": digest(before),
        "after_sha256": digest(after),
        "detail": detail,
    }
    if actor is not None:
        entry["actor"] = actor[:64]
    return _write(session, [entry])[0]


def _key(row: Base) -> str:
    return str(getattr(row, _KEY_COLUMN.get(row.__tablename__, "id")))


@contextmanager
def bulk(session: Session) -> Iterator[None]:
    """Record bulk writes by patient: one entry per patient and flush, not one per row.

    Inside the block, new rows that belong to a patient (directly, or through their plan,
    plan version or verification) are recorded per flush as one ``bulk-insert`` entry of the
    patient (key: the pseudonym), whose detail counts the rows per table; a new patient is
    recorded as ever (``insert`` with its content hash), as are updates and deletions. For
    imports of thousands of patients (``opensirt registry synth``), where an entry per row
    would cost more than the rows themselves.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.

    Yields
    ------
    None
        The bulk writes run inside the block.
    """
    session.info[_BULK] = True
    try:
        yield
    finally:
        session.info.pop(_BULK, None)


def patient_of(row: Any) -> int | None:
    """The record id of the patient a row belongs to, through its links.

    Parameters
    ----------
    row : object
        A registry row (a patient, or a row with ``patient_id`` or a link to a plan, a plan
        version or a verification).

    Returns
    -------
    int or None
        The patient's id; ``None`` for a row of no patient (a user, a job).
    """
    if isinstance(row, Patient):
        return row.id
    patient_id: int | None = getattr(row, "patient_id", None)
    if patient_id is not None:
        return patient_id
    for link in ("plan", "plan_version", "verification"):
        parent = getattr(row, link, None)
        if parent is not None:
            return patient_of(parent)
    return None


def _bulk_entries(session: Session, rows: list[Base]) -> tuple[list[Base], list[dict[str, Any]]]:
    """Split new rows into those recorded one by one and one entry per patient for the rest."""
    single: list[Base] = []
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        owner = None if isinstance(row, Patient) else patient_of(row)
        if owner is None:
            single.append(row)
        else:
            counts[owner][row.__tablename__] += 1
    entries = []
    for patient_id, tables in counts.items():
        patient = session.get(Patient, patient_id)
        entries.append(
            {
                "action": AuditAction.BULK_INSERT.value,
                "entity": "patients",
                "entity_key": str(patient_id) if patient is None else patient.pseudonym,
                "before_sha256": None,
                "after_sha256": None,
                "detail": {"rows": dict(sorted(tables.items()))},
            }
        )
    return single, entries


@event.listens_for(Session, "before_flush")
def _remember_before(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    """The content hashes of the rows to be changed or deleted, as they are before the flush
    (the version counters still at their old value)."""
    session.info[_BEFORE] = {
        id(row): _before_sha256(row)
        for row in (*session.dirty, *session.deleted)
        if isinstance(row, Base) and session.is_modified(row, include_collections=False)
    }


def _before_sha256(row: Base) -> str:
    return _sha256(canonical_json(_columns(row, before=True)))


def _row_entries(session: Session) -> Iterable[dict[str, Any]]:
    """The entries of the rows this flush writes (called with the pre-flush state)."""
    before: dict[int, str] = session.info.pop(_BEFORE, {})
    new = [row for row in session.new if isinstance(row, Base)]
    if session.info.get(_BULK):
        new, grouped = _bulk_entries(session, new)
        yield from grouped
    for row in new:
        if isinstance(row, Base):
            yield {
                "action": AuditAction.INSERT.value,
                "entity": row.__tablename__,
                "entity_key": _key(row),
                "before_sha256": None,
                "after_sha256": content_sha256(row),
                "detail": None,
            }
    for row in session.dirty:
        if isinstance(row, Base) and session.is_modified(row, include_collections=False):
            changed = sorted(
                a.key
                for a in sa.inspect(row).mapper.column_attrs
                if sa.inspect(row).attrs[a.key].history.has_changes()
            )
            yield {
                "action": AuditAction.UPDATE.value,
                "entity": row.__tablename__,
                "entity_key": _key(row),
                "before_sha256": before.get(id(row)) or _before_sha256(row),
                "after_sha256": content_sha256(row),
                "detail": {"changed": changed},
            }
    for row in session.deleted:
        if isinstance(row, Base):
            yield {
                "action": AuditAction.DELETE.value,
                "entity": row.__tablename__,
                "entity_key": _key(row),
                "before_sha256": before.get(id(row)) or _before_sha256(row),
                "after_sha256": None,
                "detail": None,
            }


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, flush_context: UOWTransaction) -> None:
    """Record every row the flush wrote, in the same transaction."""
    _write(session, list(_row_entries(session)))


def history(session: Session, entity: str, key: str) -> list[AuditEntry]:
    """The entries of one record, oldest first.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    entity : str
        The kind of record (a table name: ``patients``, ``plan_versions`` ...).
    key : str
        Its key as the log names it (id; pseudonym for a patient; name for a user).

    Returns
    -------
    list of AuditEntry
        The entries, in the order they were appended.
    """
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_key == key)
            .order_by(AuditEntry.id)
        )
    )


def entries(
    session: Session, *, entity: str | None = None, key: str | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The newest entries of the log, optionally of one kind or one record, newest first.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    entity : str, optional
        Only entries of this kind of record.
    key : str, optional
        Only entries of records with this key.
    limit : int, optional
        At most this many entries (default 50).

    Returns
    -------
    list of AuditEntry
        The entries, newest first.
    """
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if key is not None:
        query = query.where(AuditEntry.entity_key == key)
    return list(session.scalars(query))


def verify(session: Session) -> list[str]:
    """Check the whole chain: every entry's hash, every link, no gap, and the head.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        An open transaction.

    Returns
    -------
    list of str
        The problems found, each naming the entry (edited entry, missing entries, broken link,
        entries removed at the end); an empty list when the log is intact.
    """
    problems: list[str] = []
    expected_id, prev_hash = 1, GENESIS_HASH
    columns = list(_LOG.c)
    for row in session.execute(sa.select(*columns).order_by(_LOG.c.id)).yield_per(5000):
        entry = dict(row._mapping)
        if entry["id"] != expected_id:
            missing = f"{expected_id}" + (
                f" to {entry['id'] - 1}" if entry["id"] - 1 > expected_id else ""
            )
            problems.append(f"entry {missing} is missing before entry {entry['id']} (deleted)")
        elif entry["prev_hash"] != prev_hash:
            problems.append(
                f"entry {entry['id']}: its link to entry {entry['id'] - 1} is broken (prev_hash "
                "differs from that entry's hash: one of them was replaced)"
            )
        if _entry_hash({**entry, "at": entry["at"].isoformat()}) != entry["entry_hash"]:
            problems.append(f"entry {entry['id']} was edited: its content does not match its hash")
        expected_id, prev_hash = entry["id"] + 1, entry["entry_hash"]
    head = session.execute(sa.select(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1)).one_or_none()
    if head is None:
        problems.append("the head of the log (audit_head) is missing")
    elif head.entries != expected_id - 1 or head.last_hash != prev_hash:
        problems.append(
            f"the log ends at entry {expected_id - 1}, but its head records {head.entries} "
            "entries: the last entries were deleted (or the head was changed)"
        )
    return problems
