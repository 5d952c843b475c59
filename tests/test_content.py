"""Course content: loading the demo content, the index, validation, the CLI and live reload.

None of these tests needs a database: apps are built on an in-memory SQLite URL and only
their content store and CLI are used.
"""
import dataclasses
import itertools
import logging
import os
import re
import threading
import time
from pathlib import Path
from types import MappingProxyType
from uuid import UUID, uuid4

import frontmatter
import pytest

from tracker import create_app
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import ContentError, ContentIndex, ContentStore, load_content

# ---------------------------------------------------------------------------------------------
# The demo content, as written in tracker/demo_content/.
# ---------------------------------------------------------------------------------------------

MODULE_IDS = {
    "how-memory-works": "acee9d8f-418c-4a21-9951-2201fe32f9b4",
    "retrieval-practice": "717a46eb-f984-46a7-b59c-3aed6318156d",
    "spacing-and-interleaving": "d7f7bf20-8eb6-4362-807a-788a08c891a8",
}
MODULE_SLUGS = list(MODULE_IDS)  # file order, which is the order of the index

HOW_MEMORY_LO1 = "f9fa4008-ef62-4b01-b76f-bd8c7a821fd6"
HOW_MEMORY_LO2 = "b6cc50f9-a645-4590-9faa-2e55d3f86321"
HOW_MEMORY_LO3 = "e7716b4c-391f-49fd-8548-524378ccecea"
RETRIEVAL_LO1 = "6117a028-f661-4dbe-83c0-27a60e3411bf"
RETRIEVAL_LO2 = "a5c5255b-821b-451c-9b23-b5ec757a39e6"
RETRIEVAL_LO3 = "1a372d19-8be1-4d12-8568-64d56ac99bd2"
SPACING_LO1 = "e77fef72-26f0-4cba-9e46-bc51d722ede3"
SPACING_LO2 = "3d5d822f-9feb-467b-8f8a-6fda1f09da5f"
SPACING_LO3 = "c8e770f1-032a-4d05-ad1f-8cdb6ad0274c"

# Each module's sections in file order: (lens file name, LO id, optional).
SECTIONS = {
    "how-memory-works": [
        ("memory-in-three-stages", HOW_MEMORY_LO1, False),
        ("working-memory-limits", HOW_MEMORY_LO1, False),
        ("focused-and-diffuse-thinking", HOW_MEMORY_LO1, False),
        ("the-forgetting-curve", HOW_MEMORY_LO2, False),
        ("storage-and-retrieval-strength", HOW_MEMORY_LO2, True),
        ("illusions-of-competence", HOW_MEMORY_LO3, False),
        ("talk-through-how-memory-works", HOW_MEMORY_LO3, False),
    ],
    "retrieval-practice": [
        ("the-testing-effect", RETRIEVAL_LO1, False),
        ("desirable-difficulties", RETRIEVAL_LO1, True),
        ("free-recall-techniques", RETRIEVAL_LO2, False),
        ("writing-good-flashcards", RETRIEVAL_LO2, False),
        ("quizzing-with-practice-questions", RETRIEVAL_LO2, False),
        ("learning-from-mistakes", RETRIEVAL_LO3, False),
        ("retrieval-practice-coach", RETRIEVAL_LO3, False),
    ],
    "spacing-and-interleaving": [
        ("the-forgetting-curve", SPACING_LO1, False),
        ("the-spacing-effect", SPACING_LO1, False),
        ("planning-a-review-schedule", SPACING_LO2, False),
        ("spaced-repetition-apps", SPACING_LO2, True),
        ("interleaving-vs-blocking", SPACING_LO3, False),
        ("a-weekly-study-routine", SPACING_LO3, False),
        ("study-plan-tutor", SPACING_LO3, False),
    ],
}
LO_IDS = {
    slug: list(dict.fromkeys(lo for _, lo, _ in sections)) for slug, sections in SECTIONS.items()
}
ALL_LENS_NAMES = sorted(path.stem for path in (DEMO_CONTENT_DIR / "lenses").glob("*.md"))

FORGETTING_CURVE_ID = "04aaa664-a149-4296-8624-cab7c870330c"
TESTING_EFFECT_ID = "04df882a-de7e-4b10-b398-aed97174793c"
FORGETTING_CURVE = "lenses/the-forgetting-curve.md"
TESTING_EFFECT = "lenses/the-testing-effect.md"
VIDEO_LENS = "lenses/focused-and-diffuse-thinking.md"
CHAT_LENS = "lenses/study-plan-tutor.md"
HOW_MEMORY = "modules/how-memory-works.md"
RETRIEVAL = "modules/retrieval-practice.md"
SPACING = "modules/spacing-and-interleaving.md"
COURSE = "courses/study-skills.md"


@pytest.fixture(scope="module")
def index() -> ContentIndex:
    return load_content(DEMO_CONTENT_DIR)


# ---------------------------------------------------------------------------------------------
# Editing a copy of the content.
# ---------------------------------------------------------------------------------------------

_ticks = itertools.count(1)


def touch(path: Path) -> None:
    """Give the file an mtime no earlier edit had, so the change detector cannot miss it."""
    mtime_ns = time.time_ns() + next(_ticks) * 1_000_000_000
    os.utime(path, ns=(mtime_ns, mtime_ns))


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    touch(path)


def rewrite(path: Path, change) -> None:
    """Apply `change` to the front matter (a dict) and write the document back."""
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    change(post.metadata)
    path.write_text(frontmatter.dumps(post) + "\n", encoding="utf-8")
    touch(path)


def set_title(path: Path, title: str) -> None:
    text, count = re.subn(r"^title: .*$", f'title: "{title}"', path.read_text(encoding="utf-8"), count=1, flags=re.M)
    assert count == 1
    path.write_text(text, encoding="utf-8")
    touch(path)


# Edits for the validation table: each takes the path of the file to edit.
def text_edit(old: str, new: str):
    return lambda path: replace(path, old, new)


def set_key(key: str, value):
    return lambda path: rewrite(path, lambda data: data.__setitem__(key, value))


def drop_key(key: str):
    return lambda path: rewrite(path, lambda data: data.pop(key))


def change(fn):
    return lambda path: rewrite(path, fn)


def all_lenses_optional(data: dict) -> None:
    for outcome in data["outcomes"]:
        outcome["lenses"] = [
            {"lens": ref if isinstance(ref, str) else ref["lens"], "optional": True} for ref in outcome["lenses"]
        ]


def make_app(content_dir, **settings):
    config = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "TRACKER_CONTENT_DIR": str(content_dir),
        "TRACKER_CONTENT_CHECK_S": 0,
        "SECRET_KEY": "x",
    }
    config.update(settings)
    return create_app(config)


# ---------------------------------------------------------------------------------------------
# 1. The demo content and the index.
# ---------------------------------------------------------------------------------------------


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
    assert lens.body and not lens.body.startswith("---")
    assert (lens.video_url, lens.duration_s, lens.tutor_instructions) == (None, None, None)
    assert len(index.outcomes_by_id) == 9


def test_video_and_chat_lenses_carry_their_fields(index):
    video = index.lenses_by_name["focused-and-diffuse-thinking"]
    assert video.type == "video"
    assert video.video_url == "https://www.youtube.com/watch?v=O96fE1E-rf8"
    assert video.duration_s == 1060
    chats = [lens for lens in index.lenses if lens.type == "chat"]
    assert sorted(lens.name for lens in chats) == [
        "retrieval-practice-coach",
        "study-plan-tutor",
        "talk-through-how-memory-works",
    ]
    for chat in chats:
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


# ---------------------------------------------------------------------------------------------
# 2. Invalid content is refused, naming the file and the field.
# ---------------------------------------------------------------------------------------------

INVALID = [
    # Missing and malformed UUIDs.
    pytest.param(TESTING_EFFECT, drop_key("id"), TESTING_EFFECT, "id", id="lens-missing-id"),
    pytest.param(RETRIEVAL, drop_key("id"), RETRIEVAL, "id", id="module-missing-id"),
    pytest.param(RETRIEVAL, change(lambda d: d["outcomes"][1].pop("id")), RETRIEVAL, "outcomes[1].id",
                 id="lo-missing-id"),
    pytest.param(TESTING_EFFECT, set_key("id", "04df882a-de7e-4b10-b398"), TESTING_EFFECT, "id",
                 id="lens-malformed-id"),
    pytest.param(RETRIEVAL, set_key("id", "not-a-uuid"), RETRIEVAL, "id", id="module-malformed-id"),
    pytest.param(RETRIEVAL, change(lambda d: d["outcomes"][2].update(id="1a372d19-8be1-4d12-8568-64d56ac99bdz")),
                 RETRIEVAL, "outcomes[2].id", id="lo-malformed-id"),
    # One UUID used by two things.
    pytest.param(RETRIEVAL, change(lambda d: d["outcomes"][0].update(id=TESTING_EFFECT_ID)),
                 RETRIEVAL, "outcomes[0].id", id="lens-id-reused-as-lo-id"),
    pytest.param(TESTING_EFFECT, set_key("id", RETRIEVAL_LO1), RETRIEVAL, "outcomes[0].id",
                 id="lo-id-reused-as-lens-id"),
    pytest.param(TESTING_EFFECT, set_key("id", FORGETTING_CURVE_ID), TESTING_EFFECT, "id",
                 id="two-lenses-share-an-id"),
    pytest.param(TESTING_EFFECT, set_key("id", FORGETTING_CURVE_ID.upper()), TESTING_EFFECT, "id",
                 id="two-lenses-share-an-id-in-other-case"),
    pytest.param(RETRIEVAL, set_key("id", MODULE_IDS["how-memory-works"]), RETRIEVAL, "id",
                 id="two-modules-share-an-id"),
    pytest.param(SPACING, change(lambda d: d["outcomes"][0].update(id=HOW_MEMORY_LO1)), SPACING, "outcomes[0].id",
                 id="two-los-share-an-id"),
    pytest.param(RETRIEVAL, set_key("id", FORGETTING_CURVE_ID), RETRIEVAL, "id", id="lens-id-reused-as-module-id"),
    # References.
    pytest.param(RETRIEVAL, text_edit("      - the-testing-effect\n", "      - the-testing-efect\n"),
                 RETRIEVAL, "outcomes[0].lenses[0]", id="unknown-lens-reference"),
    pytest.param(HOW_MEMORY, text_edit("{lens: storage-and-retrieval-strength, optional: true}",
                                       "{lens: storage-and-retreival-strength, optional: true}"),
                 HOW_MEMORY, "outcomes[1].lenses[1]", id="unknown-optional-lens-reference"),
    pytest.param(HOW_MEMORY, text_edit("      - talk-through-how-memory-works\n",
                                       "      - talk-through-how-memory-works\n      - working-memory-limits\n"),
                 HOW_MEMORY, "outcomes[2].lenses[2]", id="lens-listed-twice-across-two-los"),
    pytest.param(RETRIEVAL, text_edit("      - writing-good-flashcards\n",
                                      "      - writing-good-flashcards\n      - writing-good-flashcards\n"),
                 RETRIEVAL, "outcomes[1].lenses[2]", id="lens-listed-twice-in-one-lo"),
    pytest.param(HOW_MEMORY, text_edit("{lens: storage-and-retrieval-strength, optional: true}",
                                       "{lens: storage-and-retrieval-strength, optinal: true}"),
                 HOW_MEMORY, "outcomes[1].lenses[1].optinal", id="unknown-key-in-lens-reference"),
    pytest.param(HOW_MEMORY, text_edit("{lens: storage-and-retrieval-strength, optional: true}",
                                       '{lens: storage-and-retrieval-strength, optional: "yes"}'),
                 HOW_MEMORY, "outcomes[1].lenses[1].optional", id="optional-flag-not-a-boolean"),
    pytest.param(HOW_MEMORY, text_edit("{lens: storage-and-retrieval-strength, optional: true}", "{optional: true}"),
                 HOW_MEMORY, "outcomes[1].lenses[1].lens", id="lens-reference-without-lens"),
    pytest.param(RETRIEVAL, change(lambda d: d["outcomes"][0].update(lense="x")), RETRIEVAL, "outcomes[0].lense",
                 id="unknown-key-in-lo"),
    pytest.param(COURSE, text_edit("  - retrieval-practice\n", "  - retreival-practice\n"), COURSE, "modules[1]",
                 id="unknown-module-in-course"),
    pytest.param(COURSE, set_key("modules", [{"module": "how-memory-works", "optinal": True}]), COURSE,
                 "modules[0].optinal", id="unknown-key-in-module-reference"),
    # Structure of a module.
    pytest.param(SPACING, change(all_lenses_optional), SPACING, "outcomes", id="module-without-required-lens"),
    pytest.param(SPACING, set_key("outcomes", []), SPACING, "outcomes", id="module-without-outcomes"),
    pytest.param(SPACING, change(lambda d: d["outcomes"][1].update(lenses=[])), SPACING, "outcomes[1].lenses",
                 id="lo-without-lenses"),
    pytest.param(SPACING, change(lambda d: d["outcomes"].append("a bare title")), SPACING, "outcomes[3]",
                 id="lo-not-a-mapping"),
    pytest.param(SPACING, drop_key("title"), SPACING, "title", id="module-without-title"),
    pytest.param(SPACING, set_key("slug", "Spacing And Interleaving"), SPACING, "slug", id="module-slug-not-a-name"),
    # Lens types and their fields.
    pytest.param(TESTING_EFFECT, text_edit("type: article", "type: podcast"), TESTING_EFFECT, "type",
                 id="unknown-lens-type"),
    pytest.param(TESTING_EFFECT, drop_key("type"), TESTING_EFFECT, "type", id="lens-without-type"),
    pytest.param(TESTING_EFFECT, drop_key("title"), TESTING_EFFECT, "title", id="lens-without-title"),
    pytest.param(VIDEO_LENS, drop_key("video_url"), VIDEO_LENS, "video_url", id="video-without-video-url"),
    pytest.param(VIDEO_LENS, drop_key("duration_s"), VIDEO_LENS, "duration_s", id="video-without-duration"),
    pytest.param(VIDEO_LENS, set_key("duration_s", "17:40"), VIDEO_LENS, "duration_s", id="video-duration-as-text"),
    pytest.param(VIDEO_LENS, set_key("duration_s", 0), VIDEO_LENS, "duration_s", id="video-duration-zero"),
    pytest.param(CHAT_LENS, drop_key("tutor_instructions"), CHAT_LENS, "tutor_instructions",
                 id="chat-without-tutor-instructions"),
    pytest.param(CHAT_LENS, set_key("tutor_instructions", ""), CHAT_LENS, "tutor_instructions",
                 id="chat-with-empty-tutor-instructions"),
    # Files that are not valid documents.
    pytest.param(TESTING_EFFECT, text_edit('title: "The Testing Effect"', 'title: "The Testing Effect'),
                 TESTING_EFFECT, "front matter", id="malformed-yaml-in-lens"),
    pytest.param(RETRIEVAL, text_edit('title: "Retrieval Practice"', "title: [Retrieval Practice"),
                 RETRIEVAL, "front matter", id="malformed-yaml-in-module"),
    pytest.param(COURSE, text_edit("  - how-memory-works\n", "  - how-memory-works\n\t- oops\n"),
                 COURSE, "front matter", id="malformed-yaml-in-course"),
]


@pytest.mark.parametrize("edited, edit, path, field", INVALID)
def test_invalid_content_is_refused(editable_content, edited, edit, path, field):
    edit(editable_content / edited)
    with pytest.raises(ContentError) as caught:
        load_content(editable_content)
    error = caught.value
    assert (error.path, error.field) == (path, field)
    assert path in str(error) and field in str(error)
    assert str(error).startswith(f"{path}: {field}: ")


def test_the_demo_copy_is_valid(editable_content):
    """The table above starts from a valid copy: each failure comes from its one edit."""
    assert len(load_content(editable_content).modules) == 3


def test_reused_uuid_names_both_places(editable_content):
    rewrite(editable_content / TESTING_EFFECT, lambda d: d.__setitem__("id", FORGETTING_CURVE_ID))
    with pytest.raises(ContentError) as caught:
        load_content(editable_content)
    assert FORGETTING_CURVE_ID in caught.value.problem
    assert f"{FORGETTING_CURVE}: id" in caught.value.problem


def test_lens_file_name_must_be_a_name(editable_content):
    (editable_content / TESTING_EFFECT).rename(editable_content / "lenses" / "The Testing Effect.md")
    replace(editable_content / RETRIEVAL, "      - the-testing-effect\n", "      - The Testing Effect\n")
    with pytest.raises(ContentError) as caught:
        load_content(editable_content)
    assert (caught.value.path, caught.value.field) == ("lenses/The Testing Effect.md", "file name")


def test_missing_directory_is_refused(tmp_path):
    with pytest.raises(ContentError) as caught:
        load_content(tmp_path / "nowhere")
    assert caught.value.field == "directory"
    assert str(tmp_path / "nowhere") in str(caught.value)


def test_two_modules_with_one_slug_are_refused_naming_a_file(editable_content):
    """Like every other error, a duplicated slug must name a file an author can open.

    It names the folder "modules" instead, so the author has to search every module for it.
    """
    rewrite(editable_content / SPACING, lambda d: d.__setitem__("slug", "retrieval-practice"))
    with pytest.raises(ContentError) as caught:
        load_content(editable_content)
    assert caught.value.field == "slug"
    assert caught.value.path in {RETRIEVAL, SPACING}
    assert caught.value.path in str(caught.value)


@pytest.mark.parametrize(
    "edited, field",
    [
        pytest.param(TESTING_EFFECT, "title", id="blank-lens-title"),
        pytest.param(CHAT_LENS, "tutor_instructions", id="blank-tutor-instructions"),
    ],
)
def test_blank_required_text_is_refused(editable_content, edited, field):
    """A required text of only spaces is as missing as an empty one; it must not load as ""."""
    rewrite(editable_content / edited, lambda d: d.__setitem__(field, "   "))
    with pytest.raises(ContentError) as caught:
        load_content(editable_content)
    assert (caught.value.path, caught.value.field) == (edited, field)


# ---------------------------------------------------------------------------------------------
# 3. The app refuses to start on invalid content.
# ---------------------------------------------------------------------------------------------


def test_app_starts_on_valid_content(editable_content):
    app = make_app(editable_content)
    store = app.extensions["tracker.content"]
    assert isinstance(store, ContentStore)
    assert [m.slug for m in store.index.modules] == MODULE_SLUGS


def test_app_refuses_to_start_on_invalid_content(editable_content):
    replace(editable_content / TESTING_EFFECT, "type: article", "type: podcast")
    with pytest.raises(ContentError) as caught:
        create_app(
            {"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRACKER_CONTENT_DIR": str(editable_content), "SECRET_KEY": "x"}
        )
    assert (caught.value.path, caught.value.field) == (TESTING_EFFECT, "type")


def test_app_refuses_to_start_without_its_content_directory(tmp_path):
    with pytest.raises(ContentError) as caught:
        make_app(tmp_path / "nowhere")
    assert caught.value.field == "directory"


# ---------------------------------------------------------------------------------------------
# 4. `flask tracker content check [DIR]`.
# ---------------------------------------------------------------------------------------------


def summary_lines(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines()]


DEMO_SUMMARY = [
    "courses: 1",
    "modules: 3",
    "learning outcomes: 9",
    "lenses: 20 files, 21 placements (18 required, 3 optional)",
    "- how-memory-works: 3 LOs, 7 lenses, 6 required",
    "- retrieval-practice: 3 LOs, 7 lenses, 6 required",
    "- spacing-and-interleaving: 3 LOs, 7 lenses, 6 required",
]


@pytest.fixture
def cli():
    """A CLI runner on an app serving the demo content.

    The `flask` command pushes an app context before running a command; the test runner
    does not, so the fixture pushes one as `flask` would.
    """
    app = make_app(DEMO_CONTENT_DIR)
    with app.app_context():
        yield app.test_cli_runner()


def test_check_summarises_the_configured_content(cli):
    result = cli.invoke(args=["tracker", "content", "check"])
    assert result.exit_code == 0, result.output
    assert summary_lines(result.output) == [f"content OK: {DEMO_CONTENT_DIR}", *DEMO_SUMMARY]


def test_check_takes_a_directory(cli, editable_content):
    rewrite(editable_content / HOW_MEMORY, lambda d: d["outcomes"][0]["lenses"].pop())
    result = cli.invoke(args=["tracker", "content", "check", str(editable_content)])
    assert result.exit_code == 0, result.output
    lines = summary_lines(result.output)
    assert lines[0] == f"content OK: {editable_content}"
    assert "lenses: 20 files, 20 placements (17 required, 3 optional)" in lines
    assert "- how-memory-works: 3 LOs, 6 lenses, 5 required" in lines


def test_check_reports_invalid_content(cli, editable_content):
    rewrite(editable_content / VIDEO_LENS, lambda d: d.pop("duration_s"))
    result = cli.invoke(args=["tracker", "content", "check", str(editable_content)])
    assert result.exit_code != 0
    assert f"{VIDEO_LENS}: duration_s" in result.output
    assert "content OK" not in result.output
    assert "Traceback" not in result.output


def test_check_reports_a_missing_directory(cli, tmp_path):
    result = cli.invoke(args=["tracker", "content", "check", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "directory" in result.output
    assert str(tmp_path / "nowhere") in result.output


# ---------------------------------------------------------------------------------------------
# 5. Live reload through ContentStore.
# ---------------------------------------------------------------------------------------------


def test_nothing_changed_means_no_reload(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    before = store.index
    assert store.reload_if_changed() is False
    assert store.index is before


def test_reload_swaps_in_edited_content(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    old = store.index
    lens_id = UUID(FORGETTING_CURVE_ID)
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")

    assert store.reload_if_changed() is True
    new = store.index
    assert new is not old
    assert new.lenses_by_id[lens_id].title == "Forgetting, Charted"
    for slug in ("how-memory-works", "spacing-and-interleaving"):
        assert new.modules_by_slug[slug].section_for(lens_id).lens.title == "Forgetting, Charted"
    assert store.last_error is None
    # A reader still holding the old index sees the old content, whole.
    assert old.lenses_by_id[lens_id].title == "The Forgetting Curve"
    for slug in ("how-memory-works", "spacing-and-interleaving"):
        assert old.modules_by_slug[slug].section_for(lens_id).lens.title == "The Forgetting Curve"
    # The same files are not reloaded twice.
    assert store.reload_if_changed() is False
    assert store.index is new


def test_reload_picks_up_a_new_lens(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    new_id = uuid4()
    (editable_content / "lenses" / "sleep-and-memory.md").write_text(
        f'---\nid: {new_id}\ntitle: "Sleep and Memory"\ntype: article\n---\nSleep consolidates.\n',
        encoding="utf-8",
    )
    rewrite(editable_content / HOW_MEMORY, lambda d: d["outcomes"][0]["lenses"].append("sleep-and-memory"))
    assert store.reload_if_changed() is True
    module = store.index.modules_by_slug["how-memory-works"]
    assert [s.lens.name for s in module.sections][3] == "sleep-and-memory"
    assert new_id in module.required_lens_ids
    assert [p.module.slug for p in store.index.placements_of(new_id)] == ["how-memory-works"]


def test_invalid_edit_keeps_the_previous_index(editable_content, caplog):
    caplog.set_level(logging.INFO, logger="tracker.content.store")
    store = ContentStore(editable_content, check_interval_s=0)
    old = store.index
    replace(editable_content / TESTING_EFFECT, "type: article", "type: podcast")

    assert store.reload_if_changed() is False
    assert store.index is old
    assert old.lenses_by_name["the-testing-effect"].type == "article"
    error = store.last_error
    assert isinstance(error, ContentError)
    assert (error.path, error.field) == (TESTING_EFFECT, "type")
    errors = [r for r in caplog.records if r.name == "tracker.content.store" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"{TESTING_EFFECT}: type" in errors[0].getMessage()

    # Asking again without a further change neither reloads nor logs the same error again.
    assert store.reload_if_changed() is False
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1

    # Fixing the file brings the new content in and clears the error.
    replace(editable_content / TESTING_EFFECT, "type: podcast", "type: article")
    set_title(editable_content / TESTING_EFFECT, "Testing, Tested")
    assert store.reload_if_changed() is True
    assert store.last_error is None
    assert store.index.lenses_by_name["the-testing-effect"].title == "Testing, Tested"


def test_index_checks_for_changes_by_itself(editable_content):
    store = ContentStore(editable_content, check_interval_s=0.05)
    old = store.index
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    time.sleep(0.1)
    new = store.index
    assert new is not old
    assert new.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_index_does_not_check_before_the_interval(editable_content):
    store = ContentStore(editable_content, check_interval_s=3600)
    old = store.index
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    assert store.index is old
    assert store.reload_if_changed() is True  # an explicit check does not wait
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_interval_zero_turns_automatic_checks_off(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    old = store.index
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    time.sleep(0.01)
    assert store.index is old


def test_app_content_store_uses_the_configured_interval(editable_content):
    store = make_app(editable_content, TRACKER_CONTENT_CHECK_S=0.05).extensions["tracker.content"]
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    time.sleep(0.1)
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_readers_always_see_a_whole_index_while_reloading(editable_content):
    """Readers (which also trigger checks themselves) race the main thread's edits and reloads."""
    store = ContentStore(editable_content, check_interval_s=0.001)
    lens_file = editable_content / FORGETTING_CURVE
    original = lens_file.read_text(encoding="utf-8")
    stop = threading.Event()
    problems: list[BaseException] = []
    titles_seen: set[str] = set()
    reads = [0]

    def read():
        try:
            while not stop.is_set():
                index = store.index
                assert list(index.modules_by_slug) == MODULE_SLUGS
                assert len(index.lenses_by_name) == 20 and len(index.outcomes_by_id) == 9
                lens = index.lenses_by_name["the-forgetting-curve"]
                assert lens.type == "article"  # never an index built from the invalid edits
                placements = index.placements_of(lens.id)
                assert [p.module.slug for p in placements] == ["how-memory-works", "spacing-and-interleaving"]
                assert all(p.module.section_for(lens.id).lens is lens for p in placements)
                titles_seen.add(lens.title)
                reads[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            problems.append(error)

    readers = [threading.Thread(target=read, daemon=True) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        for i in range(30):
            text = original.replace('title: "The Forgetting Curve"', f'title: "The Forgetting Curve, take {i}"')
            if i % 5 == 2:
                text = text.replace("type: article", "type: podcast")
            lens_file.write_text(text, encoding="utf-8")
            touch(lens_file)
            store.reload_if_changed()
            time.sleep(0.002)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=10)
    assert not any(reader.is_alive() for reader in readers)
    assert not problems, problems
    assert reads[0] > 0
    assert len(titles_seen) > 1  # the readers really did see reloads happen
    store.reload_if_changed()
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "The Forgetting Curve, take 29"


def test_an_editor_lock_file_does_not_break_live_reload(editable_content):
    """Emacs marks a file with unsaved changes by a dangling symlink `.#<name>` beside it.

    An author with unsaved changes in one lens saves another lens: the saved change must be
    served, and reading the index must not fail while the lock file exists.
    """
    store = ContentStore(editable_content, check_interval_s=0)
    os.symlink("author@laptop.4242:1700000000", editable_content / "lenses" / ".#the-testing-effect.md")
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    assert store.reload_if_changed() is True
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"
