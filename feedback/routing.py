"""Routing state in the store: which versions answer (production, staging with its canary share,
shadow), shared by every gateway replica and by `lexflow promote`, with an audit trail.

One row per model holds the state and a revision number that every change increments; replicas
poll the row and apply a newer revision. Each change is one transaction that locks the row
(PostgreSQL `FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), so concurrent changes from several replicas
apply one after the other and each audit record has the state it replaced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from feedback.tables import RoutingChangeRow, RoutingStateRow, utcnow

FIELDS = ("production", "staging", "canary_share", "shadow")
# In an audit record's before/after: the version production served (resolved when it is "newest").
SERVED = "serving"


@dataclass(frozen=True)
class RoutingState:
    model_name: str
    production: Optional[int] = None  # None: always the newest version
    staging: Optional[int] = None
    canary_share: float = 0.0  # share of unpinned requests sent to staging
    shadow: Optional[int] = None  # also scored and logged, never returned
    revision: int = 0  # 0: never changed (the defaults)
    updated_at: Optional[datetime] = None
    updated_by: str = ""

    def named(self) -> set[int]:
        """The versions this state routes to (they must stay loaded)."""
        return {v for v in (self.production, self.staging, self.shadow) if v is not None}

    def values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FIELDS}


@dataclass(frozen=True)
class RoutingChange:
    id: int
    model_name: str
    revision: int
    at: datetime
    client: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _state(row: RoutingStateRow) -> RoutingState:
    return RoutingState(
        model_name=row.model_name,
        production=row.production,
        staging=row.staging,
        canary_share=row.canary_share,
        shadow=row.shadow,
        revision=row.revision,
        updated_at=aware(row.updated_at),
        updated_by=row.updated_by,
    )


def read(session: Session, model_name: str, default_share: float = 0.0) -> RoutingState:
    row = session.get(RoutingStateRow, model_name)
    return _state(row) if row is not None else RoutingState(model_name, canary_share=default_share)


def _locked_row(session: Session, model_name: str, default_share: float) -> RoutingStateRow:
    """The model's row, locked for this transaction; created (once, whoever comes first) if missing."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(RoutingStateRow)
        .values(
            model_name=model_name,
            canary_share=default_share,
            revision=0,
            updated_at=utcnow(),
            updated_by="",
        )
        .on_conflict_do_nothing(index_elements=["model_name"])
    )
    query = select(RoutingStateRow).where(RoutingStateRow.model_name == model_name).with_for_update()
    return session.scalars(query).one()


def change(
    session: Session,
    model_name: str,
    changes: dict[str, Any],
    client: str,
    action: str,
    default_share: float = 0.0,
    newest: Optional[int] = None,
) -> RoutingState:
    """Apply `changes` (a subset of FIELDS) in the caller's write transaction; record it in the audit
    trail. `newest`: the version an unpinned production serves, recorded as `serving` before and after."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown routing fields: {sorted(unknown)}")
    row = _locked_row(session, model_name, default_share)
    before = _state(row)
    after = replace(before, **changes, revision=before.revision + 1, updated_at=utcnow(), updated_by=client[:256])
    for key in (*FIELDS, "revision", "updated_at", "updated_by"):
        setattr(row, key, getattr(after, key))
    session.add(
        RoutingChangeRow(
            model_name=model_name,
            revision=after.revision,
            at=after.updated_at,
            client=client[:256],
            action=action,
            before=_audited(before, newest),
            after=_audited(after, newest),
        )
    )
    return after


def _audited(state: RoutingState, newest: Optional[int]) -> dict[str, Any]:
    values = state.values()
    served = state.production if state.production is not None else newest
    if served is not None:
        values[SERVED] = served
    return values


def history(session: Session, model_name: str, limit: int = 50, before_id: Optional[int] = None) -> list[RoutingChange]:
    """Changes, newest first (`before_id` pages further back)."""
    query = select(RoutingChangeRow).where(RoutingChangeRow.model_name == model_name)
    if before_id is not None:
        query = query.where(RoutingChangeRow.id < before_id)
    rows = session.scalars(query.order_by(RoutingChangeRow.id.desc()).limit(limit))
    return [
        RoutingChange(r.id, r.model_name, r.revision, aware(r.at), r.client, r.action, dict(r.before), dict(r.after))
        for r in rows
    ]


def as_json(state: RoutingState) -> dict[str, Any]:
    """Plain values (the datetime as ISO-8601), e.g. for logs and files."""
    values = asdict(state)
    values["updated_at"] = state.updated_at.isoformat() if state.updated_at else None
    return values
