"""Finding content by what clients send, with domain errors when it is not there."""
from uuid import UUID

from tracker.content import ContentIndex, Lens, Module, Placement

from .errors import LensNotInModule, NotAPlacement, UnknownLens, UnknownModule


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


def placements_in(index, lens: Lens, module_slug: str | None) -> list[Placement]:
    """Every placement of the lens, or only the one in the named module."""
    if module_slug is None:
        return list(index.placements_of(lens.id))
    module = find_module(index, module_slug)
    placements = [p for p in index.placements_of(lens.id) if p.module.id == module.id]
    if not placements:
        raise LensNotInModule(f"lens {lens.id} is not part of module {module_slug!r}")
    return placements
