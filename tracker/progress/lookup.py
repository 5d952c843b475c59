"""Finding content by what clients send, with domain errors when it is not there."""
from uuid import UUID

from tracker.content import ContentIndex, Course, Lens, Module, Placement, Section

from .errors import LensNotInModule, NotAPlacement, UnknownCourse, UnknownLens, UnknownModule


def find_lens(index: ContentIndex, lens_id: UUID) -> Lens:
    lens = index.lenses_by_id.get(lens_id)
    if lens is None:
        raise UnknownLens(f"no lens has id {lens_id}")
    return lens


def find_course(index: ContentIndex, slug: str) -> Course:
    course = index.courses_by_slug.get(slug)
    if course is None:
        raise UnknownCourse(f"There is no course called “{slug}”.")
    return course


def find_module(index: ContentIndex, slug: str) -> Module:
    module = index.modules_by_slug.get(slug)
    if module is None:
        raise UnknownModule(f"There is no module called “{slug}”.")
    return module


def find_section(index: ContentIndex, slug: str, lens_ref: str) -> tuple[Module, Section]:
    """A module and the step of it whose lens has this name or id, as pages and chat URLs name them."""
    module = find_module(index, slug)
    section = module.section_named(lens_ref)
    if section is None:
        raise LensNotInModule(f"The module “{module.title}” has no lens “{lens_ref}”.")
    return module, section


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
