"""One module in depth: stats per LO and lens, the drop-off funnel, time to complete, and estimates."""

import math

from sqlalchemy import Connection, case, func, select

from tracker.content import ContentIndex, Module
from tracker.content.estimates import estimate_s
from tracker.progress.model import progress

from .funnel import funnel_steps, funnels, outcome_dropoff
from .items import item_stats
from .sql import completed

SLOWER, FASTER = 2.0, 0.5  # a lens whose median is beyond these multiples of its estimate is flagged
BIN_WIDTHS_S = (60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 43200, 86400)


def module_report(conn: Connection, index: ContentIndex, module: Module) -> dict:
    """Everything the module page shows, from four aggregate queries."""
    ids = [module.id, *(o.id for o in module.outcomes), *(s.lens.id for s in module.sections)]
    stats = item_stats(conn, ids)
    counts = funnels(conn, [module])[module.id]
    outcomes = [
        {
            "outcome": outcome,
            **stats[outcome.id],
            "lenses": [
                lens_row(s, stats[s.lens.id], index.chat_allowance_s) for s in module.sections if s.outcome is outcome
            ],
        }
        for outcome in module.outcomes
    ]
    return {
        "module": module,
        "stats": stats[module.id],
        "outcomes": outcomes,
        "funnel": funnel_steps(module, counts),
        "dropoff": outcome_dropoff(module, counts),
        "histogram": time_histogram(conn, module, stats[module.id]["p90_s"]),
    }


def lens_row(section, stats: dict, chat_allowance_s: int) -> dict:
    """A lens's stats with its estimate, and how far the median is from it."""
    estimated = estimate_s(section.lens, chat_allowance_s)
    ratio = stats["median_s"] / estimated if stats["median_s"] is not None and estimated else None
    flag = None if ratio is None else "slower" if ratio > SLOWER else "faster" if ratio < FASTER else None
    return {"section": section, "lens": section.lens, **stats, "estimate_s": estimated, "ratio": ratio, "flag": flag}


def bin_width(p90_s: float | None, bins: int = 12) -> int:
    """A round bin width so that about `bins` bins reach 1.5 times the p90."""
    wanted = (p90_s or 600) * 1.5 / bins
    return next((w for w in BIN_WIDTHS_S if w >= wanted), BIN_WIDTHS_S[-1])


def time_histogram(conn: Connection, module: Module, p90_s: float | None) -> dict:
    """Learners per bin of module time to complete; the last bin holds everything beyond."""
    width = bin_width(p90_s)
    last = math.ceil((p90_s or 600) * 1.5 / width)
    bucket = case((completed >= last * width, last), else_=completed // width)
    query = (
        select(bucket.label("bucket"), func.count().label("n"))
        .where(progress.c.content_id == module.id, completed.is_not(None))
        .group_by(bucket)
    )
    counts = [0] * (last + 1)
    for row in conn.execute(query):
        counts[int(row.bucket)] = row.n
    return {"width_s": width, "counts": counts}
