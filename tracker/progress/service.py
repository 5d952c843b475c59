"""The progress rules: heartbeats, completion and its propagation, and module state.

No Flask here. Every function takes a SQLAlchemy connection and runs inside the caller's
transaction, takes plain values, returns plain data, and raises the domain errors of
`tracker.progress.errors`.
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID

from sqlalchemy import Connection, select

from tracker.content import ContentIndex, Lens, Module, Placement
from tracker.models import UserContentProgress

from .errors import InvalidDelta, LensNotInModule, NotAPlacement, UnknownLens, UnknownModule
from .statements import COMPLETE_ROW, LEVELS_IN_LOCK_ORDER, execute_heartbeat, lock_row_statement, owner_kind

progress = UserContentProgress.__table__


@dataclass(frozen=True)
class Learner:
    """Whoever the progress belongs to: an account or an anonymous token, never both."""

    user_id: int | None = None
    anonymous_token: UUID | None = None

    def __post_init__(self):
        if (self.user_id is None) == (self.anonymous_token is None):
            raise ValueError("a learner is either a user or an anonymous token")


@dataclass(frozen=True)
class Budget:
    """Limits that stop a client from inflating time."""

    max_delta_s: int  # the most one heartbeat may report
    burst_s: int  # the most a row may be credited beyond elapsed wall-clock time


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def record_heartbeat(
    conn: Connection,
    index: ContentIndex,
    learner: Learner,
    budget: Budget,
    *,
    lens_id: UUID,
    delta_s: int,
    lo_id: UUID | None = None,
    module_id: UUID | None = None,
    now: datetime | None = None,
) -> int:
    """Credit active seconds to the lens and, when given, its LO and module; return the lens's credit."""
    if not 1 <= delta_s <= budget.max_delta_s:
        raise InvalidDelta(delta_s, budget.max_delta_s)
    lens = find_lens(index, lens_id)
    placement = find_placement(index, lens, lo_id, module_id)
    targets = {"lens": (lens.id, lens.title)}
    if lo_id is not None:
        targets["lo"] = (placement.outcome.id, placement.outcome.title)
    if module_id is not None:
        targets["module"] = (placement.module.id, placement.module.title)
    return credit_rows(conn, learner, budget, targets, delta_s, now or utc_now())


def credit_rows(conn, learner, budget, targets: dict, delta_s: int, now: datetime) -> int:
    levels = tuple(level for level in LEVELS_IN_LOCK_ORDER if level in targets)
    params = {
        "user_id": learner.user_id,
        "anonymous_token": learner.anonymous_token,
        "now": now,
        "now_ms": int(now.timestamp() * 1000),
        "delta": delta_s,
        "burst_s": budget.burst_s,
    }
    for level in levels:
        params[f"{level}_id"], params[f"{level}_title"] = targets[level]
    credits = dict(execute_heartbeat(conn, owner_kind(learner.user_id), levels, params))
    return credits["lens"]


def find_lens(index: ContentIndex, lens_id: UUID) -> Lens:
    lens = index.lenses_by_id.get(lens_id)
    if lens is None:
        raise UnknownLens(f"no lens has id {lens_id}")
    return lens


def find_module(index: ContentIndex, slug: str) -> Module:
    module = index.modules_by_slug.get(slug)
    if module is None:
        raise UnknownModule(f"no module has slug {slug!r}")
    return module


def find_placement(index, lens: Lens, lo_id: UUID | None, module_id: UUID | None) -> Placement | None:
    """The placement of `lens` that matches the LO and module the client named."""
    if lo_id is None and module_id is None:
        return None
    for placement in index.placements_of(lens.id):
        if lo_id in (None, placement.outcome.id) and module_id in (None, placement.module.id):
            return placement
    named = ", ".join(f"{name} {value}" for name, value in (("lo_id", lo_id), ("module_id", module_id)) if value)
    raise NotAPlacement(f"lens {lens.id} is not placed in {named}")


def complete_lens(
    conn: Connection,
    index: ContentIndex,
    learner: Learner,
    *,
    lens_id: UUID,
    module_slug: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Complete a lens and propagate to its LOs and modules; return the lens's completion and module states."""
    now = now or utc_now()
    lens = find_lens(index, lens_id)
    placements = placements_to_check(index, lens, module_slug)
    modules = sorted({p.module.id: p.module for p in placements}.values(), key=lambda m: m.id)
    outcomes = sorted({p.outcome.id: p.outcome for p in placements}.values(), key=lambda o: o.id)
    # Serialise completions per (learner, module): locking the module rows first makes a second
    # request that completes another lens of the same module wait until this one commits, and then
    # read this one's lens completion. Without it, two requests completing the last two required
    # lenses at once could each see the other's lens as incomplete, and neither would complete
    # the LO or the module. Rows are locked in the heartbeat's order (modules, LOs, lens).
    rows = {}
    for item, level in [(m, "module") for m in modules] + [(o, "lo") for o in outcomes] + [(lens, "lens")]:
        rows[item.id] = lock_row(conn, learner, item.id, level, item.title, now)
    lens_row = rows[lens.id]
    complete_row(conn, lens_row, now)
    for placement in placements:
        done = completed_lens_ids(conn, learner, placement.module.required_lens_ids)
        if placement.outcome.required_lens_ids <= done:
            complete_row(conn, rows[placement.outcome.id], now)
        if placement.module.required_lens_ids <= done:
            complete_row(conn, rows[placement.module.id], now)
    return {
        "completed_at": as_utc(lens_row.completed_at) or now,
        "modules": [module_state(conn, learner, module) for module in modules],
    }


def placements_to_check(index, lens: Lens, module_slug: str | None) -> list[Placement]:
    if module_slug is None:
        return list(index.placements_of(lens.id))
    module = find_module(index, module_slug)
    placements = [p for p in index.placements_of(lens.id) if p.module.id == module.id]
    if not placements:
        raise LensNotInModule(f"lens {lens.id} is not part of module {module_slug!r}")
    return placements


def lock_row(conn, learner: Learner, content_id: UUID, level: str, title: str, now: datetime):
    params = {
        "user_id": learner.user_id,
        "anonymous_token": learner.anonymous_token,
        "content_id": content_id,
        "content_type": level,
        "content_title": title,
        "now": now,
    }
    return conn.execute(lock_row_statement(owner_kind(learner.user_id)), params).one()


def complete_row(conn, row, now: datetime) -> None:
    if row.completed_at is None:  # a completion is never overwritten
        conn.execute(COMPLETE_ROW, {"now": now, "row_id": row.id})


def owned_by(learner: Learner):
    if learner.user_id is not None:
        return progress.c.user_id == learner.user_id
    return progress.c.anonymous_token == learner.anonymous_token


def completed_lens_ids(conn, learner: Learner, lens_ids: frozenset[UUID]) -> set[UUID]:
    query = select(progress.c.content_id).where(
        owned_by(learner),
        progress.c.content_id.in_(lens_ids),
        progress.c.completed_at.is_not(None),
    )
    return set(conn.execute(query).scalars())


def update_module_progress(
    conn: Connection,
    index: ContentIndex,
    learner: Learner,
    budget: Budget,
    *,
    module_slug: str,
    lens_id: UUID,
    time_spent_s: int = 0,
    completed: bool = False,
    now: datetime | None = None,
) -> tuple[int | None, dict]:
    """Heartbeat and/or complete a lens of a module; return the lens's credit and the module state."""
    now = now or utc_now()
    module = find_module(index, module_slug)
    section = module.section_for(lens_id)
    if section is None:
        raise LensNotInModule(f"lens {lens_id} is not part of module {module_slug!r}")
    credited = None
    if time_spent_s:
        credited = record_heartbeat(
            conn, index, learner, budget,
            lens_id=lens_id, delta_s=time_spent_s, lo_id=section.outcome.id, module_id=module.id, now=now,
        )
    if completed:
        complete_lens(conn, index, learner, lens_id=lens_id, module_slug=module_slug, now=now)
    return credited, module_state(conn, learner, module)


def get_module_state(conn: Connection, index: ContentIndex, learner: Learner, module_slug: str) -> dict:
    return module_state(conn, learner, find_module(index, module_slug))


def module_state(conn, learner: Learner, module: Module) -> dict:
    """Status, counts and per-LO and per-lens progress of one module, from one query."""
    content_ids = [module.id, *(o.id for o in module.outcomes), *(s.lens.id for s in module.sections)]
    query = select(
        progress.c.content_id,
        progress.c.completed_at,
        progress.c.total_time_spent_s,
        progress.c.time_to_complete_s,
    ).where(owned_by(learner), progress.c.content_id.in_(content_ids))
    rows = {row.content_id: row for row in conn.execute(query)}
    done_required = sum(1 for lens_id in module.required_lens_ids if completed_at(rows, lens_id))
    if completed_at(rows, module.id):
        status = "completed"
    elif rows:
        status = "in_progress"
    else:
        status = "not_started"
    return {
        "module": {"id": module.id, "slug": module.slug, "title": module.title},
        "status": status,
        "progress": {"completed": done_required, "total": len(module.required_lens_ids)},
        **time_fields(rows, module.id),
        "learning_outcomes": [
            {"id": outcome.id, "title": outcome.title, **time_fields(rows, outcome.id)}
            for outcome in module.outcomes
        ],
        "lenses": [
            {
                "id": section.lens.id,
                "title": section.lens.title,
                "type": section.lens.type,
                "optional": section.optional,
                "learning_outcome_id": section.outcome.id,
                **time_fields(rows, section.lens.id),
            }
            for section in module.sections
        ],
    }


def time_fields(rows: dict, content_id: UUID) -> dict:
    row = rows.get(content_id)
    return {
        "completed": bool(row and row.completed_at),
        "completed_at": completed_at(rows, content_id),
        "time_spent_s": row.total_time_spent_s if row else 0,
        "time_to_complete_s": row.time_to_complete_s if row else None,
    }


def completed_at(rows: dict, content_id: UUID) -> datetime | None:
    row = rows.get(content_id)
    return as_utc(row.completed_at) if row else None


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment
