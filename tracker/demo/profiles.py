"""How learners fare on each lens of the content: time against the estimate, and who gives up."""

import random
from dataclasses import dataclass

from tracker.content import ContentIndex, Module
from tracker.content.estimates import estimate_s


@dataclass(frozen=True)
class LensProfile:
    """How learners fare on one lens: typical time against the estimate, and who carries on."""

    estimate_s: int
    slowness: float  # median actual time / estimate
    finish_rate: float  # the chance a learner who starts it finishes it rather than giving up


def course_modules(index: ContentIndex) -> list[Module]:
    """Modules in course order, then any module no course lists."""
    ordered = [ref.module for course in index.courses for ref in course.module_refs]
    ordered += [m for m in index.modules if m not in ordered]
    return list(dict.fromkeys(ordered))


def lens_profiles(index: ContentIndex, rng: random.Random) -> dict:
    """Most lenses take a little longer than estimated; a few are far off, and one LO loses people."""
    profiles = {}
    lenses = sorted(index.lenses, key=lambda lens: lens.name)
    slow, fast = rng.sample(lenses, 2) if len(lenses) >= 2 else (None, None)
    hard_outcome = rng.choice([o for m in index.modules for o in m.outcomes])
    hard_lenses = {ref.lens.id for ref in hard_outcome.lens_refs}
    for lens in lenses:
        slowness = {"article": 1.3, "video": 0.95, "chat": 1.1}.get(lens.type, 1.2)
        slowness = 3.2 if lens is slow else 0.35 if lens is fast else slowness * rng.uniform(0.85, 1.15)
        finish_rate = 0.75 if lens.id in hard_lenses else 0.9 if lens.type == "chat" else 0.97
        profiles[lens.id] = LensProfile(estimate_s(lens, index.chat_allowance_s), slowness, finish_rate)
    return profiles
