"""Invalid content is refused naming the file and the field, and the app will not start on it.

Each case edits a copy of the demo content (support/content.py) and loads it, with no database.
"""
import pytest

from support.content import (
    CHAT_LENS,
    COURSE,
    FORGETTING_CURVE,
    FORGETTING_CURVE_ID,
    HOW_MEMORY,
    HOW_MEMORY_LO1,
    MODULE_IDS,
    MODULE_SLUGS,
    RETRIEVAL,
    RETRIEVAL_LO1,
    SPACING,
    TESTING_EFFECT,
    TESTING_EFFECT_ID,
    VIDEO_LENS,
    all_lenses_optional,
    change,
    drop_key,
    make_app,
    replace,
    rewrite,
    set_key,
    text_edit,
)
from tracker import create_app
from tracker.content import ContentError, ContentStore, load_content


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


# --- The app refuses to start on invalid content ------------------------------------------------


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
