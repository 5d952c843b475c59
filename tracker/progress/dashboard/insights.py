"""Across the whole course: the slowest lenses, the estimates furthest off, and the LOs that lose most learners."""

import math

from sqlalchemy import Connection

from tracker.content import ContentIndex

from .funnel import funnels, outcome_dropoff
from .items import item_stats
from .module import lens_row

MIN_LEARNERS = 10  # fewer completions than this say little about a lens or an LO
TOP = 3


def course_insights(conn: Connection, index: ContentIndex) -> dict:
    """The top few of each, from two aggregate queries over every lens and module."""
    sections = {}
    for module in index.modules:
        for section in module.sections:
            sections.setdefault(section.lens.id, (module, section))
    stats = item_stats(conn, list(sections))
    lenses = [
        {**lens_row(section, stats[lens_id], index.chat_allowance_s), "module": module}
        for lens_id, (module, section) in sections.items()
        if stats[lens_id]["completed"] >= MIN_LEARNERS
    ]
    counts = funnels(conn, list(index.modules))
    outcomes = [
        {**row, "module": module}
        for module in index.modules
        for row in outcome_dropoff(module, counts[module.id])
        if row["reached"] >= MIN_LEARNERS
    ]
    return {
        "slowest": sorted(lenses, key=lambda lens: -lens["median_s"])[:TOP],
        "off_estimate": sorted(
            (lens for lens in lenses if lens["ratio"]), key=lambda lens: -abs(math.log(lens["ratio"]))
        )[:TOP],
        "dropoff": sorted(outcomes, key=lambda row: -row["lost_share"])[:TOP],
        "min_learners": MIN_LEARNERS,
    }
