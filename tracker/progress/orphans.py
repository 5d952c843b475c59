"""Progress whose content is gone: rows keyed on a UUID that the content no longer has.

A module, LO or lens file re-created with a new id (or an id edited by hand) leaves its
learners' rows behind, silently: `content check` lists them before such a change is served.
"""
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func, inspect, select

from tracker.content import ContentIndex
from tracker.database import Db

from .model import progress


@dataclass(frozen=True)
class OrphanedProgress:
    content_id: UUID
    level: str  # module, lo or lens
    title: str  # as the rows remember it
    rows: int  # one per learner


def content_ids(index: ContentIndex) -> set[UUID]:
    """Every id progress may be keyed on: modules, outcomes (and the LOs a group holds), lenses."""
    outcomes = [outcome for module in index.modules for outcome in module.outcomes]
    return {m.id for m in index.modules} | {o.id for o in outcomes} | {i for o in outcomes for i in o.member_ids} | set(index.lenses_by_id)


def orphaned_progress(db: Db, index: ContentIndex) -> list[OrphanedProgress] | None:
    """The progress rows, by content id, that no module, LO or lens of `index` has; None without a progress table."""
    with db.transaction() as conn:
        if not inspect(conn).has_table(progress.name):
            return None
        query = select(
            progress.c.content_id, progress.c.content_type, func.max(progress.c.content_title), func.count()
        ).group_by(progress.c.content_id, progress.c.content_type)
        known = content_ids(index)
        found = [OrphanedProgress(UUID(str(row[0])), row[1], row[2] or "", row[3]) for row in conn.execute(query)]
    return sorted((item for item in found if item.content_id not in known), key=lambda item: (item.level, item.title))
