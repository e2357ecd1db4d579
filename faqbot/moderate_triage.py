"""Triage of escalations: take, resolve, mark false alarm, add a note; each in the audit log.

A status change and its audit entry are written in ONE transaction, and the change only applies
when the status is still the one the entry records as "before" (two moderators acting at once
cannot both claim the same transition). Notes are redacted like everything else people type.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, insert, select, update

from faqbot.moderate_accounts import Clock
from faqbot.moderate_models import AuditEntry
from faqbot.redact import redact
from faqbot.store_db import writer
from faqbot.store_models import Escalation, utc_now
from faqbot.store_records import EscalationRecord

MAX_NOTE = 2000


@dataclass(frozen=True)
class Action:
    """A triage action: the status it moves to (None: a note only) and whether text is required."""

    name: str
    label: str
    target: str | None
    needs_text: bool


ACTIONS = {
    "take": Action("take", "Take (in review)", "in_review", needs_text=False),
    "resolve": Action("resolve", "Resolve", "resolved", needs_text=False),
    "false_alarm": Action("false_alarm", "Mark as false alarm", "false_alarm", needs_text=True),
    "note": Action("note", "Add note", None, needs_text=True),
}
CLOSED = ("resolved", "false_alarm")


class TriageError(ValueError):
    """The action was refused: 400 missing/too long text, 404 no such escalation, 409 conflict."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class AuditRecord(BaseModel):
    """One audit-log entry as the detail page shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    moderator: str
    escalation_id: int | None
    action: str
    before: str | None
    after: str | None
    note: str | None


def clean_note(text: str | None) -> str | None:
    """The note trimmed and redacted, or None when empty (TriageError when too long)."""
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise TriageError(f"notes may have at most {MAX_NOTE} characters", 400)
    return redact(text) if text else None


class Triage:
    """Apply triage actions and read the audit log."""

    def __init__(self, *, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def act(
        self, escalation_id: int, *, moderator: str, action: str, note: str | None
    ) -> AuditRecord:
        """Apply `action` by `moderator`; the audit entry written (TriageError when refused)."""
        spec = ACTIONS.get(action)
        if spec is None:
            raise TriageError(f"unknown action {action!r}", 400)
        text = clean_note(note)
        if spec.needs_text and not text:
            raise TriageError("a reason is required" if spec.target else "the note is empty", 400)
        with writer(self.engine).begin() as connection:
            before = self._status(connection, escalation_id)
            if spec.target is not None:
                self._move(connection, escalation_id, before, spec.target)
            entry = {
                "at": self.clock(),
                "moderator": moderator,
                "escalation_id": escalation_id,
                "action": action,
                "before": before if spec.target else None,
                "after": spec.target,
                "note": text,
            }
            new_id = connection.execute(insert(AuditEntry).values(**entry)).inserted_primary_key
        return AuditRecord(id=int(new_id[0]), **entry)  # type: ignore[index]

    def _status(self, connection: Connection, escalation_id: int) -> str:
        query = select(Escalation.status).where(Escalation.id == escalation_id)
        status = connection.execute(query).scalar()
        if status is None:
            raise TriageError(f"there is no escalation #{escalation_id}", 404)
        return str(status)

    def _move(self, connection: Connection, escalation_id: int, before: str, after: str) -> None:
        if before == after:
            raise TriageError(f"escalation #{escalation_id} is already {after.replace('_', ' ')}")
        statement = (
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.status == before)
            .values(status=after)
        )
        if connection.execute(statement).rowcount != 1:
            raise TriageError("someone else changed this escalation just now; reload the page")

    def record(
        self,
        *,
        moderator: str,
        action: str,
        before: str | None = None,
        after: str | None = None,
        note: str | None = None,
    ) -> None:
        """Write an audit entry that concerns no escalation (account changes, exports)."""
        values = {"at": self.clock(), "moderator": moderator, "escalation_id": None}
        values |= {"action": action, "before": before, "after": after, "note": note}
        with writer(self.engine).begin() as connection:
            connection.execute(insert(AuditEntry).values(**values))

    def audit_for(self, escalation_id: int) -> list[AuditRecord]:
        """The audit entries of one escalation, oldest first."""
        query = (
            select(AuditEntry)
            .where(AuditEntry.escalation_id == escalation_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return self._audit(query)

    def recent(self, *, limit: int = 50, escalations: bool = False) -> list[AuditRecord]:
        """The newest entries about accounts and exports (or, with `escalations`, about those)."""
        column = AuditEntry.escalation_id
        where = column.is_not(None) if escalations else column.is_(None)
        query = select(AuditEntry).where(where).order_by(AuditEntry.id.desc()).limit(limit)
        return self._audit(query)

    def _audit(self, query: object) -> list[AuditRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()  # type: ignore[call-overload]
        return [AuditRecord.model_validate(row._mapping) for row in rows]


# ---------------------------------------------------------------------- false alarms as cases
def guard_case(record: EscalationRecord) -> dict[str, object]:
    """A false alarm as a guard dev-set case: the message must NOT be flagged next time."""
    users = [line["text"] for line in record.transcript if line.get("role") == "user"]
    history = users[:-1] if users and users[-1] == record.message else users
    return {
        "id": f"fa-{record.id}",
        "history": history,
        "message": record.message,
        "expected": "none",
        "class": "false_alarm",
    }


def guard_cases_jsonl(records: Iterable[EscalationRecord]) -> str:
    """False alarms of the guard (not feedback votes) as JSON Lines in the dev-set format."""
    cases = [guard_case(r) for r in records if r.category != "feedback" and r.message.strip()]
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)


__all__ = [
    "ACTIONS",
    "CLOSED",
    "AuditRecord",
    "Triage",
    "TriageError",
    "clean_note",
    "guard_case",
    "guard_cases_jsonl",
]
