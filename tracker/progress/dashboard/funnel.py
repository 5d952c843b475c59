"""Drop-off funnels: of the learners who started a module, how many completed its required lenses in order.

Step k counts learners who completed all of the module's first k required lenses, so the
funnel only ever narrows, and the step where it narrows most is where learners stop.
"""

from sqlalchemy import BigInteger, Connection, and_, case, cast, func, or_, select

from tracker.content import Module
from tracker.progress.model import progress

from .sql import completed

WORD_BITS = 62  # positions per bit mask, so that masks fit a signed 64-bit integer


def required_lens_ids(module: Module) -> list:
    return [s.lens.id for s in module.sections if not s.optional]


def funnels(conn: Connection, modules: list[Module]) -> dict:
    """{module id: [learners who started, then learners through each required lens]}, from one query.

    Per learner, each module gets bit masks of its completed required lenses (bit i for the
    i-th lens); a learner is through step k when the mask's first k bits are all set. One
    CASE per module and word keeps the work per row small, whatever the number of steps.
    """
    if not modules:
        return {}
    lenses = {m.id: required_lens_ids(m) for m in modules}
    columns, names = [], {}
    for module in modules:
        names[module.id] = f"s{len(columns)}"
        columns.append(func.max(case((progress.c.content_id == module.id, 1), else_=0)).label(names[module.id]))
        for word in range(0, len(lenses[module.id]), WORD_BITS):
            bits = {
                lens_id: 1 << (i - word) for i, lens_id in enumerate(lenses[module.id]) if word <= i < word + WORD_BITS
            }
            mask = case({lens_id: bit for lens_id, bit in bits.items()}, value=progress.c.content_id, else_=0)
            columns.append(
                cast(func.sum(case((completed.is_not(None), mask), else_=0)), BigInteger).label(
                    f"{names[module.id]}w{word}"
                )
            )
    lens_ids = {lens_id for ids in lenses.values() for lens_id in ids}
    per_learner = (
        select(*columns)
        .where(
            or_(
                progress.c.content_id.in_([m.id for m in modules]),
                progress.c.content_id.in_(lens_ids) & completed.is_not(None),
            )
        )
        .group_by(progress.c.user_id, progress.c.anonymous_token)
        .subquery("per_learner")
    )
    totals = []
    for module in modules:
        started = per_learner.c[names[module.id]] == 1
        totals.append(func.sum(case((started, 1), else_=0)))
        for k in range(1, len(lenses[module.id]) + 1):
            through = [started] + [
                first_bits_set(per_learner.c[f"{names[module.id]}w{word}"], min(k - word, WORD_BITS))
                for word in range(0, k, WORD_BITS)
            ]
            totals.append(func.sum(case((and_(*through), 1), else_=0)))
    counts = [int(value or 0) for value in conn.execute(select(*totals)).one()]
    result = {}
    for module in modules:
        size = len(lenses[module.id]) + 1
        result[module.id], counts = counts[:size], counts[size:]
    return result


def first_bits_set(word, bits: int):
    full = (1 << bits) - 1
    return word.bitwise_and(full) == full


def funnel_steps(module: Module, counts: list[int]) -> list[dict]:
    """The funnel as labelled steps, each with the learners lost since the step before."""
    required = [s for s in module.sections if not s.optional]
    labels = [{"title": "Started the module", "section": None}] + [
        {"title": s.lens.title, "section": s} for s in required
    ]
    steps, before = [], None
    for label, learners in zip(labels, counts):
        lost = before - learners if before is not None else 0
        steps.append({**label, "learners": learners, "lost": lost, "lost_share": lost / before if before else None})
        before = learners
    return steps


def outcome_dropoff(module: Module, counts: list[int]) -> list[dict]:
    """Per LO: learners who reached it (completed every required lens before it) and who got through it."""
    required = [s for s in module.sections if not s.optional]
    rows = []
    for outcome in module.outcomes:
        positions = [i + 1 for i, s in enumerate(required) if s.outcome.id == outcome.id]
        if not positions:
            continue
        reached, through = counts[positions[0] - 1], counts[positions[-1]]
        rows.append(
            {
                "outcome": outcome,
                "reached": reached,
                "through": through,
                "lost": reached - through,
                "lost_share": (reached - through) / reached if reached else None,
            }
        )
    return rows
