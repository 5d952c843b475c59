"""One simulated learner's way through the content, lens by lens.

`simulate_learner` returns the rows the real heartbeats and completions would have left:
the same seconds on the lens, its LO and its module, and an LO or module completed exactly
when its required lenses are; and the days of the daily ledger, each module's seconds on the
UTC day they were spent. No Flask and no database here.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from tracker.content import Module

SPREAD = timedelta(days=60)  # learners started at any time in the last 60 days
OPTIONAL_TAKEN = 0.35
SAME_SESSION = 0.7  # the chance a learner goes straight on to the next lens
MEAN_BREAK_S = 36 * 3600
WANDER_OFF = 0.01  # the chance a learner simply never comes back after a lens


@dataclass
class Row:
    content_type: str
    title: str
    started_at: datetime
    last_heartbeat_at: datetime | None = None
    total_time_spent_s: int = 0
    time_to_complete_s: int | None = None
    completed_at: datetime | None = None


@dataclass
class Walk:
    """One learner's way through the content; `rows` maps content ids to their progress, `days` (module id, UTC day) to seconds."""

    clock: datetime
    now: datetime
    rows: dict = field(default_factory=dict)
    days: dict = field(default_factory=dict)
    stopped: bool = False


def simulate_learner(modules: list[Module], profiles: dict, rng: random.Random, now: datetime) -> Walk:
    """Walk one learner through the modules in order; return the walk, with its rows and days."""
    walk = Walk(clock=now - SPREAD * rng.random(), now=now)
    pace = math.exp(rng.gauss(0, 0.25))  # some people are simply quicker than others
    previous_done = True
    for position, module in enumerate(modules):
        if walk.stopped or (position and rng.random() > (0.85 if previous_done else 0.1)):
            break
        walk_module(walk, module, profiles, pace, rng)
        previous_done = walk.rows.get(module.id) is not None and walk.rows[module.id].completed_at is not None
    return walk


def walk_module(walk: Walk, module: Module, profiles: dict, pace: float, rng: random.Random) -> None:
    for section in module.sections:
        lens_row = walk.rows.get(section.lens.id)
        if walk.stopped:
            return
        if (section.optional and rng.random() > OPTIONAL_TAKEN) or (lens_row and lens_row.completed_at):
            continue  # skipped, or already completed in an earlier module
        profile = profiles[section.lens.id]
        needed = max(15, round(profile.estimate_s * profile.slowness * pace * math.exp(rng.gauss(0, 0.5))))
        needed = min(needed, 6 * 3600)
        if not section.optional and rng.random() > profile.finish_rate:
            work(walk, module, section, needed, share=rng.uniform(0.1, 0.7))
            walk.stopped = True  # gave up on this lens
        elif not work(walk, module, section, needed):
            walk.stopped = True  # still on it now
        else:
            walk.clock += timedelta(seconds=pause_s(rng))
            walk.stopped = rng.random() < WANDER_OFF


def pause_s(rng: random.Random) -> float:
    """A moment before the next lens, or a break until another day."""
    return rng.uniform(5, 90) if rng.random() < SAME_SESSION else rng.expovariate(1 / MEAN_BREAK_S)


def work(walk: Walk, module: Module, section, seconds: int, share: float = 1.0) -> bool:
    """Spend time on the lens, crediting it, its LO and its module; complete it if all `seconds` fit in."""
    available = int((walk.now - walk.clock).total_seconds())
    if available <= 0:
        return False
    spent = min(max(1, round(seconds * share)), available)
    levels = (
        (module.id, "module", module.title),
        (section.outcome.id, "lo", section.outcome.title),
        (section.lens.id, "lens", section.lens.title),
    )
    end = walk.clock + timedelta(seconds=spent)
    for content_id, content_type, title in levels:
        row = walk.rows.setdefault(content_id, Row(content_type, title, started_at=walk.clock))
        row.total_time_spent_s += spent
        row.last_heartbeat_at = end
    add_days(walk.days, module.id, walk.clock, spent)
    walk.clock = end
    if spent < seconds:
        return False
    complete(walk.rows, module, section, end)
    return True


def add_days(days: dict, module_id, start: datetime, seconds: int) -> None:
    """`seconds` spent from `start` on, on the UTC days they fall on; the days add up to `seconds` exactly."""
    while seconds > 0:
        day = start.astimezone(timezone.utc).date()
        next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.utc)
        part = min(seconds, max(1, round((next_midnight - start).total_seconds())))
        days[(module_id, day)] = days.get((module_id, day), 0) + part
        seconds, start = seconds - part, next_midnight


def complete(rows: dict, module: Module, section, moment: datetime) -> None:
    """Complete the lens, then its LO and module when all their required lenses are complete."""
    done = {cid for cid, row in rows.items() if row.completed_at} | {section.lens.id}
    for content_id, required in (
        (section.lens.id, None),
        (section.outcome.id, section.outcome.required_lens_ids),
        (module.id, module.required_lens_ids),
    ):
        row = rows[content_id]
        if row.completed_at is None and (required is None or required <= done):
            row.completed_at, row.time_to_complete_s = moment, row.total_time_spent_s
