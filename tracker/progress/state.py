"""Reading progress: a module's state, a course's modules, and everything a learner has started.

The entry points take the app's Db and read in one transaction; module_state takes the
connection of a caller that also writes (a completion answers with the new state).

Each function reads the learner's rows with one query and builds plain dictionaries from the
content index, so pages and the JSON API never query per lens.
"""
from datetime import date
from uuid import UUID

from sqlalchemy import Connection, select

from tracker.chat.store import Message, conversation
from tracker.clock import as_utc
from tracker.content import ContentIndex, Course, Module
from tracker.content.estimates import estimate_s
from tracker.database import Db
from tracker.learner import Learner, owned_by

from .daily import seconds_per_week
from .lookup import find_module
from .model import progress

ROW_COLUMNS = (
    progress.c.content_id,
    progress.c.content_type,
    progress.c.content_title,
    progress.c.started_at,
    progress.c.last_heartbeat_at,
    progress.c.completed_at,
    progress.c.total_time_spent_s,
    progress.c.time_to_complete_s,
)


def load_rows(conn: Connection, learner: Learner, content_ids=None) -> dict:
    """The learner's rows by content id; all of them when `content_ids` is None."""
    query = select(*ROW_COLUMNS).where(owned_by(progress, learner))
    if content_ids is not None:
        query = query.where(progress.c.content_id.in_(list(content_ids)))
    return {row.content_id: row for row in conn.execute(query)}


def module_content_ids(module: Module) -> list[UUID]:
    return [module.id, *(o.id for o in module.outcomes), *(s.lens.id for s in module.sections)]


def get_module_state(db: Db, index: ContentIndex, learner: Learner, module_slug: str) -> dict:
    """The learner's state in the module with this slug."""
    module = find_module(index, module_slug)
    with db.transaction() as conn:
        return module_state(conn, index, learner, module)


def lens_page(db: Db, index: ContentIndex, learner: Learner, module: Module, lens_id: UUID) -> tuple[dict, list[Message]]:
    """What a lens page shows of the learner: the module's state, and their conversation with the tutor."""
    with db.transaction() as conn:
        return module_state(conn, index, learner, module), conversation(conn, learner, module.id, lens_id)


def module_state(conn, index: ContentIndex, learner: Learner, module: Module) -> dict:
    """Status, counts, time and estimates of one module, per LO and per lens, from one query."""
    rows = load_rows(conn, learner, module_content_ids(module))
    return build_module_state(module, rows, index.chat_allowance_s)


def course_state(db: Db, index: ContentIndex, learner: Learner, course: Course) -> list[dict]:
    """The state of each module of a course, in course order, from one query."""
    modules = [ref.module for ref in course.module_refs]
    with db.transaction() as conn:
        rows = load_rows(conn, learner, [i for m in modules for i in module_content_ids(m)])
    return [build_module_state(module, rows, index.chat_allowance_s) for module in modules]


def courses_overview(db: Db, index: ContentIndex, learner: Learner) -> list[dict]:
    """Per course: modules completed out of total, and module-level time spent."""
    with db.transaction() as conn:
        rows = load_rows(conn, learner, [ref.module.id for c in index.courses for ref in c.module_refs])
    overview = []
    for course in index.courses:
        module_rows = [rows[ref.module.id] for ref in course.module_refs if ref.module.id in rows]
        overview.append({
            "course": course,
            "modules_completed": sum(1 for row in module_rows if row.completed_at),
            "modules_total": len(course.module_refs),
            "time_spent_s": sum(row.total_time_spent_s for row in module_rows),
        })
    return overview


def learner_report(db: Db, index: ContentIndex, learner: Learner, today: date, weeks: int = 12) -> dict:
    """The state of every module the learner has started, and their active time in each of the last `weeks` weeks."""
    with db.transaction() as conn:
        return {"modules": started_modules(conn, index, learner), "weeks": seconds_per_week(conn, learner, today, weeks)}


def started_modules(conn: Connection, index: ContentIndex, learner: Learner) -> list[dict]:
    """learner_report inside the caller's transaction."""
    rows = load_rows(conn, learner)
    started = [m for m in index.modules if any(i in rows for i in module_content_ids(m))]
    return [build_module_state(module, rows, index.chat_allowance_s) for module in started]


def build_module_state(module: Module, rows: dict, chat_allowance_s: int) -> dict:
    lenses = [
        {
            "id": section.lens.id,
            "name": section.lens.name,
            "title": section.lens.title,
            "type": section.lens.type,
            "optional": section.optional,
            "hidden": section.hidden,
            "learning_outcome_id": section.outcome.id,
            "estimated_s": estimate_s(section.lens, chat_allowance_s),
            **time_fields(rows, section.lens.id),
        }
        for section in module.sections
    ]
    required = [lens for lens in lenses if not lens["optional"]]
    outcomes = [
        {
            "id": outcome.id,
            "title": outcome.title,
            **time_fields(rows, outcome.id),
            **estimates([lens for lens in required if lens["learning_outcome_id"] == outcome.id]),
        }
        for outcome in module.outcomes
    ]
    next_lens = next((lens for lens in required if not lens["completed"]), None)
    return {
        "module": {"id": module.id, "slug": module.slug, "title": module.title},
        "status": module_status(module, rows),
        "progress": {"completed": sum(1 for lens in required if lens["completed"]), "total": len(required)},
        **time_fields(rows, module.id),
        **estimates(required),
        "continue_lens": next_lens["name"] if next_lens else None,
        "learning_outcomes": outcomes,
        "lenses": lenses,
    }


def lens_in(state: dict, lens_id: UUID) -> dict:
    """One lens's part of a module state."""
    return next(lens for lens in state["lenses"] if lens["id"] == lens_id)


def module_status(module: Module, rows: dict) -> str:
    if completed_at(rows, module.id):
        return "completed"
    if any(i in rows for i in module_content_ids(module)):
        return "in_progress"
    return "not_started"


def estimates(required_lenses: list[dict]) -> dict:
    """What the required lenses should take in all, and what is left of it."""
    return {
        "estimated_s": sum(lens["estimated_s"] for lens in required_lenses),
        "remaining_s": sum(lens["estimated_s"] for lens in required_lenses if not lens["completed"]),
    }


def time_fields(rows: dict, content_id: UUID) -> dict:
    row = rows.get(content_id)
    return {
        "completed": bool(row and row.completed_at),
        "completed_at": completed_at(rows, content_id),
        "time_spent_s": row.total_time_spent_s if row else 0,
        "time_to_complete_s": row.time_to_complete_s if row else None,
    }


def completed_at(rows: dict, content_id: UUID):
    row = rows.get(content_id)
    return as_utc(row.completed_at) if row else None
