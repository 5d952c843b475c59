"""The demo content loads, and its index finds every module, LO, lens and placement (support/content.py has their ids)."""
import dataclasses
from types import MappingProxyType
from uuid import UUID, uuid4

import pytest

from support.content import (
    ALL_LENS_NAMES,
    FORGETTING_CURVE_ID,
    HOW_MEMORY_LO2,
    LO_IDS,
    MODULE_IDS,
    MODULE_SLUGS,
    SECTIONS,
    SPACING_LO1,
)
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import ContentIndex, load_content
from tracker.content.model import ArticleSegment, VideoSegment


@pytest.fixture(scope="module")
def index() -> ContentIndex:
    return load_content(DEMO_CONTENT_DIR)


def test_demo_content_loads(index):
    assert [m.slug for m in index.modules] == MODULE_SLUGS
    assert sorted(lens.name for lens in index.lenses) == ALL_LENS_NAMES
    assert len(index.lenses) == 20
    assert sum(len(m.outcomes) for m in index.modules) == 9
    assert [c.slug for c in index.courses] == ["study-skills"]
    course = index.courses[0]
    assert course.title == "Study Skills That Stick"
    assert course.description.startswith("**Study Skills That Stick**")
    assert [(ref.module.slug, ref.optional) for ref in course.module_refs] == [(s, False) for s in MODULE_SLUGS]
    # A course refers to the very module objects the index serves.
    assert all(ref.module is index.modules_by_slug[ref.module.slug] for ref in course.module_refs)


@pytest.mark.parametrize("slug", MODULE_SLUGS)
def test_modules_by_slug_and_by_uuid(index, slug):
    module = index.modules_by_slug[slug]
    assert module.slug == slug
    assert module.id == UUID(MODULE_IDS[slug])
    assert index.modules_by_id[UUID(MODULE_IDS[slug])] is module
    assert [str(o.id) for o in module.outcomes] == LO_IDS[slug]
    assert module.introduction and not module.introduction.startswith("---")


def test_unknown_slugs_and_ids_are_not_in_the_index(index):
    assert "no-such-module" not in index.modules_by_slug
    assert uuid4() not in index.modules_by_id
    # Lookups are by UUID, not by its text.
    assert MODULE_IDS["how-memory-works"] not in index.modules_by_id
    assert index.placements_of(uuid4()) == ()


def test_module_titles(index):
    assert {m.slug: m.title for m in index.modules} == {
        "how-memory-works": "How Memory Works",
        "retrieval-practice": "Retrieval Practice",
        "spacing-and-interleaving": "Spacing and Interleaving",
    }


@pytest.mark.parametrize("slug", MODULE_SLUGS)
def test_sections_follow_file_order(index, slug):
    module = index.modules_by_slug[slug]
    assert [(s.lens.name, str(s.outcome.id), s.optional) for s in module.sections] == SECTIONS[slug]
    # Each section's LO is the module's own outcome object, and its lens is the index's lens.
    for section in module.sections:
        assert section.outcome in module.outcomes
        assert index.outcomes_by_id[section.outcome.id] is section.outcome
        assert index.lenses_by_name[section.lens.name] is section.lens
        assert module.section_for(section.lens.id) is section
    assert module.section_for(uuid4()) is None


def test_lenses_by_id_and_by_name(index):
    assert len(index.lenses_by_id) == len(index.lenses_by_name) == 20
    lens = index.lenses_by_name["the-forgetting-curve"]
    assert lens.id == UUID(FORGETTING_CURVE_ID)
    assert index.lenses_by_id[UUID(FORGETTING_CURVE_ID)] is lens
    assert lens.title == "The Forgetting Curve"
    assert lens.type == "article"
    assert lens.tldr.startswith("Ebbinghaus showed")
    # A lens of tracker's own format is one segment: an article lens, its text.
    (article,) = lens.segments
    assert isinstance(article, ArticleSegment) and article.source is None
    assert article.markdown and not article.markdown.startswith("---")
    assert (lens.videos, lens.chat, lens.tutor_instructions) == ((), None, None)
    assert len(index.outcomes_by_id) == 9


def test_video_and_chat_lenses_carry_their_fields(index):
    video = index.lenses_by_name["focused-and-diffuse-thinking"]
    assert video.type == "video"
    (clip,) = video.segments
    assert isinstance(clip, VideoSegment) and (clip.start_s, clip.end_s) == (None, None)
    assert clip.url == "https://www.youtube.com/watch?v=O96fE1E-rf8"
    assert clip.duration_s == 1060
    assert clip.transcript.startswith(video.text)
    chats = [lens for lens in index.lenses if lens.type == "chat"]
    assert sorted(lens.name for lens in chats) == [
        "retrieval-practice-coach",
        "study-plan-tutor",
        "talk-through-how-memory-works",
    ]
    for chat in chats:
        (segment,) = chat.segments
        assert segment.instructions == chat.tutor_instructions and segment.prompt == chat.text
        assert chat.tutor_instructions.startswith("You are a")
        assert "\n" not in chat.tutor_instructions  # the folded YAML block is one paragraph


def test_a_lens_placed_in_two_modules_has_two_placements(index):
    lens = index.lenses_by_name["the-forgetting-curve"]
    placements = index.placements_of(lens.id)
    assert [(p.module.slug, str(p.outcome.id), p.optional) for p in placements] == [
        ("how-memory-works", HOW_MEMORY_LO2, False),
        ("spacing-and-interleaving", SPACING_LO1, False),
    ]
    assert index.placements_by_lens_id[lens.id] == placements
    for placement in placements:
        assert placement.module is index.modules_by_slug[placement.module.slug]
        assert placement.outcome in placement.module.outcomes


@pytest.mark.parametrize("slug", MODULE_SLUGS)
def test_every_placement_of_every_lens(index, slug):
    """Every section of every module is a placement of its lens, and nothing else is."""
    for name, lo_id, optional in SECTIONS[slug]:
        lens = index.lenses_by_name[name]
        expected = [
            (module_slug, lo, opt)
            for module_slug, sections in SECTIONS.items()
            for lens_name, lo, opt in sections
            if lens_name == name
        ]
        found = [(p.module.slug, str(p.outcome.id), p.optional) for p in index.placements_of(lens.id)]
        assert found == expected
        assert (slug, lo_id, optional) in found


def test_optional_placement_is_marked_optional(index):
    lens = index.lenses_by_name["storage-and-retrieval-strength"]
    [placement] = index.placements_of(lens.id)
    assert (placement.module.slug, str(placement.outcome.id), placement.optional) == (
        "how-memory-works",
        HOW_MEMORY_LO2,
        True,
    )


def test_every_lens_is_placed_once_except_the_forgetting_curve(index):
    counts = {lens.name: len(index.placements_of(lens.id)) for lens in index.lenses}
    assert counts == {name: 2 if name == "the-forgetting-curve" else 1 for name in ALL_LENS_NAMES}
    assert sum(counts.values()) == 21


@pytest.mark.parametrize("slug", MODULE_SLUGS)
def test_required_lenses_of_each_outcome_and_module(index, slug):
    module = index.modules_by_slug[slug]
    names = {lens.id: lens.name for lens in index.lenses}
    for outcome in module.outcomes:
        expected = {name for name, lo, optional in SECTIONS[slug] if lo == str(outcome.id) and not optional}
        assert {names[i] for i in outcome.required_lens_ids} == expected
    expected_module = {name for name, _, optional in SECTIONS[slug] if not optional}
    assert {names[i] for i in module.required_lens_ids} == expected_module
    assert len(module.required_lens_ids) == 6
    assert isinstance(module.required_lens_ids, frozenset)


def test_optional_lenses_are_not_required(index):
    module = index.modules_by_slug["how-memory-works"]
    lo2 = index.outcomes_by_id[UUID(HOW_MEMORY_LO2)]
    optional = index.lenses_by_name["storage-and-retrieval-strength"]
    assert lo2.required_lens_ids == {index.lenses_by_name["the-forgetting-curve"].id}
    assert optional.id not in module.required_lens_ids
    assert module.section_for(optional.id).optional is True


MAPPINGS = [
    "modules_by_slug",
    "modules_by_id",
    "lenses_by_id",
    "lenses_by_name",
    "outcomes_by_id",
    "placements_by_lens_id",
]


@pytest.mark.parametrize("name", MAPPINGS)
def test_index_mappings_are_read_only(index, name):
    mapping = getattr(index, name)
    assert isinstance(mapping, MappingProxyType)
    key = next(iter(mapping))
    before = dict(mapping)
    with pytest.raises(TypeError):
        mapping[key] = None
    with pytest.raises(TypeError):
        mapping["new key"] = None
    with pytest.raises(TypeError):
        del mapping[key]
    assert dict(mapping) == before


def test_index_and_its_parts_are_frozen(index):
    module = index.modules_by_slug["how-memory-works"]
    outcome = module.outcomes[0]
    section = module.sections[0]
    lens = section.lens
    placement = index.placements_of(lens.id)[0]
    course = index.courses[0]
    cases = [
        (index, "modules", ()),
        (index, "modules_by_slug", {}),
        (module, "title", "changed"),
        (module, "outcomes", ()),
        (outcome, "title", "changed"),
        (outcome, "lens_refs", ()),
        (section, "optional", True),
        (lens, "title", "changed"),
        (placement, "optional", True),
        (course, "title", "changed"),
        (course.module_refs[0], "optional", True),
        (outcome.lens_refs[0], "optional", True),
    ]
    for obj, attribute, value in cases:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, attribute, value)
    assert isinstance(index.modules, tuple) and isinstance(index.lenses, tuple)
    assert isinstance(module.outcomes, tuple) and isinstance(module.sections, tuple)
    assert isinstance(outcome.lens_refs, tuple) and isinstance(index.placements_of(lens.id), tuple)
    assert module.title == "How Memory Works" and lens.title == "Encoding, Storage and Retrieval"


def test_sections_are_computed_once(index):
    module = index.modules_by_slug["retrieval-practice"]
    assert module.sections is module.sections
