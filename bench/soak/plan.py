"""The content as soak learners meet it: each module's lenses in course order, with their LO."""
from dataclasses import dataclass
from pathlib import Path

from tracker.content import load_content


@dataclass(frozen=True)
class Spot:
    """A lens where a module places it: what a heartbeat names and a lens page shows."""

    module_slug: str
    module_id: str
    lo_id: str
    lens_id: str
    lens_name: str
    lens_type: str
    optional: bool


@dataclass(frozen=True)
class Plan:
    index: object
    spots: dict  # module slug -> [Spot] in course order
    slugs: tuple

    @classmethod
    def load(cls, directory) -> "Plan":
        index = load_content(Path(directory))
        spots = {
            m.slug: [
                Spot(m.slug, str(m.id), str(s.outcome.id), str(s.lens.id), s.lens.name, s.lens.type, s.optional)
                for s in m.sections
            ]
            for m in index.modules
        }
        return cls(index, spots, tuple(spots))

    def required_by_outcome(self, slug: str) -> list[list[Spot]]:
        outcomes = {}
        for spot in self.spots[slug]:
            if not spot.optional:
                outcomes.setdefault(spot.lo_id, []).append(spot)
        return list(outcomes.values())
