"""The progress service called straight, as the unit tests (tests/unit) do: explicit moments, no HTTP, no sleeping.

A `Client` is one anonymous learner whose heartbeats and completions go to tracker.progress's
record_heartbeat, complete_lens and update_module_progress with `now=at(seconds)`, on the app's
Db (app.extensions["tracker.db"]) and the real database of the `app` fixture.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

from sqlalchemy import select

from tracker import progress
from tracker.db import db
from tracker.models import UserContentProgress

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
MODULE = "how-memory-works"
LENS = "memory-in-three-stages"
OTHER_LENS = "working-memory-limits"  # in the same LO and module as LENS


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment as the database gave it, in UTC (SQLite keeps no time zone)."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Sent:
    """One heartbeat the service was given, and what it credited."""

    at_s: float
    delta_s: int
    lens: str
    backlog_age_s: int | None
    chunk_id: int | None
    credited: int


@dataclass
class Client:
    """One anonymous learner's heartbeats and completions, straight into the progress service with an explicit `now`."""

    app: object
    token: UUID = field(default_factory=uuid4)
    sent: list = field(default_factory=list)

    @property
    def index(self):
        return self.app.extensions["tracker.content"].index

    @property
    def learner(self) -> progress.Learner:
        return progress.Learner(anonymous_token=self.token)

    def section(self, lens: str, module: str = MODULE):
        return next(s for s in self.index.modules_by_slug[module].sections if s.lens.name == lens)

    def beat(self, at_s: float, delta_s: int, lens: str = LENS, *, age: int | None = None, chunk: int | None = None) -> int:
        module = self.index.modules_by_slug[MODULE]
        section = self.section(lens)
        with self.app.app_context():
            credited = progress.record_heartbeat(
                self.app.extensions["tracker.db"], self.index, self.learner, self.app.extensions["tracker.budget"],
                lens_id=section.lens.id, delta_s=delta_s, lo_id=section.outcome.id, module_id=module.id,
                backlog_age_s=age, chunk_id=chunk, now=at(at_s),
            )
        self.sent.append(Sent(at_s, delta_s, lens, age, chunk, credited))
        return credited

    def complete(self, at_s: float, lens: str = LENS, module: str | None = MODULE, pending_s: int = 0) -> dict:
        """complete_lens at `at_s`, with `pending_s` seconds the page had not sent yet."""
        with self.app.app_context():
            return progress.complete_lens(
                self.app.extensions["tracker.db"], self.index, self.learner,
                lens_id=self.index.lenses_by_name[lens].id, module_slug=module, pending_s=pending_s,
                budget=self.app.extensions["tracker.budget"], now=at(at_s),
            )

    def update_module(self, at_s: float, lens: str = LENS, time_spent_s: int = 0, completed: bool = False) -> tuple:
        """update_module_progress at `at_s`: (the lens's credit, the module state)."""
        with self.app.app_context():
            return progress.update_module_progress(
                self.app.extensions["tracker.db"], self.index, self.learner, self.app.extensions["tracker.budget"],
                module_slug=MODULE, lens_id=self.index.lenses_by_name[lens].id, time_spent_s=time_spent_s,
                completed=completed, now=at(at_s),
            )

    def rows(self) -> dict:
        """{content_type or lens name: row}: the module, the LO and each lens row."""
        names = {lens.id: lens.name for lens in self.index.lenses}
        table = UserContentProgress.__table__
        with self.app.app_context(), db.engine.connect() as conn:
            found = conn.execute(select(table).where(table.c.anonymous_token == self.token)).mappings()
            return {names.get(row["content_id"], row["content_type"]): dict(row) for row in found}

    def total(self, key: str = LENS) -> int:
        return self.rows().get(key, {}).get("total_time_spent_s", 0)
