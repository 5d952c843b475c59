"""The progress rules for writing: heartbeats, and completion with its propagation.

No Flask here. The entry points (record_heartbeat, complete_lens, update_module_progress) take
the app's Db and open the boundary their work needs; the functions they call take a connection
and run inside it. All take plain values, return plain data, and raise the domain errors of
`tracker.progress.errors`.
"""
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, select

from tracker.chat.store import messages_to_tutor
from tracker.clock import as_utc, utc_now
from tracker.content import ContentIndex
from tracker.database import Db
from tracker.learner import Learner, owned_by
from tracker.lrs.queue import queue_completions
from tracker.xapi import XapiSettings

from .errors import ChatNotStarted, InvalidDelta, LensNotInModule, NotAPlacement, OutOfRange
from .lookup import find_lens, find_module, find_placement, placements_in
from .model import MAX_BACKLOG_AGE_S, MAX_CHUNK_ID, Budget, progress
from .state import module_state
from .statements import COMPLETE_ROW, LEVELS_IN_LOCK_ORDER, LOCK_LEARNER, execute_heartbeat, lock_row_statement, owner_kind


def record_heartbeat(
    db: Db,
    index: ContentIndex,
    learner: Learner,
    budget: Budget,
    *,
    lens_id: UUID,
    delta_s: int,
    lo_id: UUID | None = None,
    module_id: UUID | None = None,
    backlog_age_s: int | None = None,
    chunk_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Credit active seconds to the lens and, when given, its LO and module; return the lens's credit.

    `backlog_age_s`: for seconds the page could not deliver at the time, how many seconds ago
    the oldest of them was accrued (by the page's clock, so the two clocks need not agree).
    `chunk_id`: the page's id for these seconds; the same chunk sent again is credited nothing.
    """
    check_heartbeat(budget, delta_s, backlog_age_s, chunk_id)
    targets = heartbeat_targets(index, lens_id, lo_id, module_id)
    # One INSERT ... ON CONFLICT statement, atomic by itself: no BEGIN or COMMIT, one round trip.
    with db.single_statement() as conn:
        return credit_rows(conn, learner, budget, targets, delta_s, backlog_age_s, chunk_id, now or utc_now())


def heartbeat_targets(index: ContentIndex, lens_id: UUID, lo_id: UUID | None, module_id: UUID | None) -> dict:
    """The (id, title) of the lens and, when the client named them, its LO and module, by level."""
    lens = find_lens(index, lens_id)
    placement = find_placement(index, lens, lo_id, module_id)
    targets = {"lens": (lens.id, lens.title)}
    if lo_id is not None:
        targets["lo"] = (placement.outcome.id, placement.outcome.title)
    if module_id is not None:
        targets["module"] = (placement.module.id, placement.module.title)
    return targets


def check_heartbeat(budget: Budget, delta_s: int, backlog_age_s: int | None, chunk_id: int | None) -> None:
    if not 1 <= delta_s <= budget.max_delta_s:
        raise InvalidDelta(delta_s, budget.max_delta_s)
    if backlog_age_s is not None and not 0 <= backlog_age_s <= MAX_BACKLOG_AGE_S:
        raise OutOfRange("backlog_age_s", backlog_age_s, 0, MAX_BACKLOG_AGE_S)
    if chunk_id is not None and not 1 <= chunk_id <= MAX_CHUNK_ID:
        raise OutOfRange("chunk_id", chunk_id, 1, MAX_CHUNK_ID)


def credit_rows(conn, learner, budget, targets: dict, delta_s: int, backlog_age_s, chunk_id, now: datetime) -> int:
    """Run the heartbeat statement over the target rows; a backlog too old to credit writes nothing."""
    reach_s = budget.reach_s(backlog_age_s)
    if reach_s is None:
        return 0
    levels = tuple(level for level in LEVELS_IN_LOCK_ORDER if level in targets)
    now_ms = int(now.timestamp() * 1000)
    params = {
        "user_id": learner.user_id,
        "anonymous_token": learner.anonymous_token,
        "now": now,
        "now_ms": now_ms,
        # A row first made by a backlog started when its oldest second was accrued.
        "started_at": now - timedelta(seconds=backlog_age_s or 0),
        "delta": delta_s,
        "reach_s": reach_s,
        "chunk_id": chunk_id,
        # Live seconds end now; queued ones are dated by the budget (statements.SPAN_DAYS).
        "live_end_ms": None if reach_s > budget.burst_s else now_ms,
    }
    for level in levels:
        params[f"{level}_id"], params[f"{level}_title"] = targets[level]
    credits = dict(execute_heartbeat(conn, owner_kind(learner.user_id), levels, params))
    return credits["lens"]


def complete_lens(
    db: Db,
    index: ContentIndex,
    learner: Learner,
    *,
    lens_id: UUID,
    module_slug: str | None = None,
    pending_s: int = 0,
    chunk_id: int | None = None,
    budget: Budget | None = None,
    lrs: XapiSettings | None = None,
    now: datetime | None = None,
) -> dict:
    """Complete a lens and propagate to its LOs and modules; return the lens's completion and module states.

    `pending_s`: active seconds the page had not sent yet (with their `chunk_id`), credited to
    the lens, its LO and its module through the heartbeat's budget before the completion takes
    its snapshot, so that time_to_complete_s includes them. Needs `budget`.
    `lrs`: with an LRS configured, how to make the `completed` statements that this transaction
    queues in the LRS outbox, one per row it completes.
    """
    with db.transaction() as conn:
        return complete_and_propagate(
            conn, index, learner, lens_id=lens_id, module_slug=module_slug,
            pending_s=pending_s, chunk_id=chunk_id, budget=budget, lrs=lrs, now=now or utc_now(),
        )


def complete_and_propagate(conn: Connection, index, learner, *, lens_id, module_slug, pending_s, chunk_id, budget, lrs, now) -> dict:
    """complete_lens inside the caller's transaction."""
    lens = find_lens(index, lens_id)
    named = placements_in(index, lens, module_slug)  # checks the slug; the answer describes these modules
    if chunk_id is not None and not 1 <= chunk_id <= MAX_CHUNK_ID:  # refused alike with seconds or without
        raise OutOfRange("chunk_id", chunk_id, 1, MAX_CHUNK_ID)
    if pending_s:
        check_heartbeat(budget, pending_s, None, chunk_id)
        placement = only_placement(lens, named)
    require_chat_started(conn, learner, lens, named)
    serialise_completions(conn, learner)
    # The learner works in the named modules, so their rows exist from now on, complete or not.
    rows = {m.id: lock_row(conn, learner, m.id, "module", m.title, now) for m in sorted_by_id(p.module for p in named)}
    # A lens has one row per learner, whichever module completes it, so an LO or a module elsewhere
    # that holds the lens may be complete now as well. Completions of one learner run one at a
    # time, so the lenses completed so far cannot change before this transaction commits.
    placements = index.placements_of(lens.id)
    done = completed_lens_ids(conn, learner, frozenset().union(*(p.module.required_lens_ids for p in placements)))
    done.add(lens.id)
    complete_modules = sorted_by_id(p.module for p in placements if p.module.required_lens_ids <= done)
    complete_outcomes = sorted_by_id(p.outcome for p in placements if p.outcome.required_lens_ids <= done)
    # Row locks in the heartbeat's order (modules, LOs, lens), so that the two never deadlock.
    for module in (m for m in complete_modules if m.id not in rows):
        rows[module.id] = lock_row(conn, learner, module.id, "module", module.title, now)
    credited_s = None
    if pending_s:  # with every module row locked, so the statement's LO and lens locks still come after
        targets = {
            "module": (placement.module.id, placement.module.title),
            "lo": (placement.outcome.id, placement.outcome.title),
            "lens": (lens.id, lens.title),
        }
        credited_s = credit_rows(conn, learner, budget, targets, pending_s, None, chunk_id, now)
    # A group of LOs that the same lenses serve completes each LO in it too (their rows, by the LOs' own ids).
    outcome_titles = {o.id: o.title for o in [p.outcome for p in named] + complete_outcomes}
    completed_outcome_ids = [o.id for o in complete_outcomes] + [lo_id for o in complete_outcomes for lo_id, _ in o.grouped]
    outcome_titles |= {lo_id: statement for o in complete_outcomes for lo_id, statement in o.grouped}
    for outcome_id in sorted(outcome_titles):
        rows[outcome_id] = lock_row(conn, learner, outcome_id, "lo", outcome_titles[outcome_id], now)
    lens_row = lock_row(conn, learner, lens.id, "lens", lens.title, now)
    to_complete = [lens_row] + [rows[m.id] for m in complete_modules] + [rows[i] for i in dict.fromkeys(completed_outcome_ids)]
    completed_now = [done for done in (complete_row(conn, row, now) for row in to_complete) if done is not None]
    if lrs is not None:
        queue_completions(conn, index, lrs, learner, completed_now, now)
    return {
        "completed_at": as_utc(lens_row.completed_at) or now,
        "credited_s": credited_s,
        "modules": [module_state(conn, index, learner, m) for m in sorted_by_id(p.module for p in named)],
    }


def only_placement(lens, placements: list):
    """Where seconds sent with a completion belong: the one module named, or the lens's only one."""
    if len(placements) != 1:
        raise NotAPlacement(
            f"lens {lens.id} is placed in {len(placements)} modules: name the module_slug the seconds were spent in"
        )
    return placements[0]


def complete_finished_outcomes_and_modules(conn: Connection, index: ContentIndex, learner: Learner, lrs: XapiSettings | None = None) -> None:
    """Complete every LO and module whose required lenses the learner has all completed.

    For progress put together from two learners (an account claiming a browser's anonymous
    progress), where neither half completed them. Call it after serialise_completions. With
    `lrs`, the completions queue their statements, as complete_lens's do.
    """
    now = utc_now()
    done = completed_lens_ids(conn, learner, frozenset(index.lenses_by_id))
    finished = [(m.id, m.title, "module") for m in sorted_by_id(m for m in index.modules if m.required_lens_ids <= done)]
    outcomes = [o for o in index.outcomes_by_id.values() if o.required_lens_ids <= done]
    by_id = {o.id: (o.id, o.title, "lo") for o in outcomes} | {i: (i, s, "lo") for o in outcomes for i, s in o.grouped}
    finished += sorted(by_id.values())
    completed_now = []
    for content_id, title, level in finished:  # in the heartbeat's lock order: modules, then LOs
        completed_now.append(complete_row(conn, lock_row(conn, learner, content_id, level, title, now), now))
    if lrs is not None:
        queue_completions(conn, index, lrs, learner, [done for done in completed_now if done is not None], now)


def serialise_completions(conn: Connection, learner: Learner) -> None:
    """Make this learner's completions run one at a time, until the transaction ends.

    Two requests that complete the last two required lenses of an LO at once would otherwise
    each read the other's lens as incomplete, and neither would complete the LO or the module.
    PostgreSQL: a transaction-scoped advisory lock on the learner, taken before any row lock, so
    it cannot deadlock with heartbeats. SQLite lets one transaction write at a time, and the
    first write of a completion (its first lock_row) comes before anything it reads.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(LOCK_LEARNER, {"learner": f"{learner.user_id}/{learner.anonymous_token}"})


def sorted_by_id(items):
    return sorted({item.id: item for item in items}.values(), key=lambda item: item.id)


def require_chat_started(conn, learner: Learner, lens, placements) -> None:
    """A lens with a chat, required where it is being completed, needs the learner's messages first.

    It needs `min_chat_messages` of them (1 unless the lens says otherwise), sent in any module.
    """
    required = any(not placement.optional for placement in placements)
    if lens.has_chat and required and messages_to_tutor(conn, learner, lens.id) < lens.min_chat_messages:
        raise ChatNotStarted(f"Send the tutor at least {messages_needed(lens)} in “{lens.title}” before marking it complete.")


def messages_needed(lens) -> str:
    return "one message" if lens.min_chat_messages == 1 else f"{lens.min_chat_messages} messages"


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


def complete_row(conn, row, now: datetime):
    """Complete a locked row unless it is complete already (a completion is never overwritten); return what it completed, or None."""
    if row.completed_at is not None:
        return None
    return conn.execute(COMPLETE_ROW, {"now": now, "row_id": row.id}).one_or_none()


def completed_lens_ids(conn, learner: Learner, lens_ids: frozenset[UUID]) -> set[UUID]:
    query = select(progress.c.content_id).where(
        owned_by(progress, learner),
        progress.c.content_id.in_(lens_ids),
        progress.c.completed_at.is_not(None),
    )
    return set(conn.execute(query).scalars())


def update_module_progress(
    db: Db,
    index: ContentIndex,
    learner: Learner,
    budget: Budget,
    *,
    module_slug: str,
    lens_id: UUID,
    time_spent_s: int = 0,
    completed: bool = False,
    lrs: XapiSettings | None = None,
    now: datetime | None = None,
) -> tuple[int | None, dict]:
    """Heartbeat and/or complete a lens of a module; return the lens's credit and the module state.

    A completion credits the seconds first, so that its snapshot includes them.
    """
    now = now or utc_now()
    module = find_module(index, module_slug)
    section = module.section_for(lens_id)
    if section is None:
        raise LensNotInModule(f"lens {lens_id} is not part of module {module_slug!r}")
    if time_spent_s:
        check_heartbeat(budget, time_spent_s, None, None)
    credited = None
    with db.transaction() as conn:  # the answer's state is read after the writes, in the same transaction
        if completed:
            result = complete_and_propagate(
                conn, index, learner, lens_id=lens_id, module_slug=module_slug,
                pending_s=time_spent_s, chunk_id=None, budget=budget, lrs=lrs, now=now,
            )
            credited = result["credited_s"]
        elif time_spent_s:
            targets = heartbeat_targets(index, lens_id, section.outcome.id, module.id)
            credited = credit_rows(conn, learner, budget, targets, time_spent_s, None, None, now)
        return credited, module_state(conn, index, learner, module)
