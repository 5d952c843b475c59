"""The text layer of the Lens vault reader: cleaning, sections and fields, wikilinks, clip times.

Every rule of /work/shared/LENS-FORMAT.md's "Before parsing" and "Building blocks" is here, with
inputs written for these tests. Line numbers matter throughout: `content check` names the line
an author sees in their editor, so nothing that is removed may move the lines after it.
"""
import os

import pytest

from tracker.content.vault.links import (
    LinkOutsideVault,
    WikiLink,
    find_wikilinks,
    parse_time,
    parse_wikilink,
    resolve,
)
from tracker.content.vault.markup import TextBlock, block_text, clean, find_block, strip_block_ids
from tracker.content.vault.sections import VaultError, parse_document, split_front_matter


def line_of(text: str, needle: str) -> int:
    """The 1-based line on which `needle` first appears."""
    return text[: text.index(needle)].count("\n") + 1


def parse(text: str, path: str = "modules/Intro.md"):
    document, errors = parse_document(text, path)
    return document, [str(error) for error in errors]


# Line ends


def test_crlf_and_lone_cr_line_ends_become_lf():
    assert clean("one\r\ntwo\rthree\n") == "one\ntwo\nthree\n"


def test_a_crlf_file_parses_like_an_lf_file():
    crlf = "---\r\nslug: intro\r\n---\r\n# Lens: Welcome\r\nid:: 1234\r\ncontent::\r\nHello\r\n\r\n"
    document, errors = parse(crlf)
    assert errors == []
    assert document.front_matter == {"slug": "intro"}
    (lens,) = document.sections
    assert (lens.type, lens.title, lens.line) == ("lens", "Welcome", 4)
    assert lens.fields["content"].value == "Hello"
    assert lens.fields["id"].value == "1234"


def test_a_byte_order_mark_does_not_hide_the_front_matter():
    document, errors = parse("\ufeff---\nslug: intro\n---\n")
    assert errors == [] and document.front_matter == {"slug": "intro"}


# Obsidian comments


def test_an_inline_comment_is_removed():
    assert clean("Keep %%not this%% and this.") == "Keep  and this."


def test_a_comment_over_several_paragraphs_keeps_the_lines_after_it_in_place():
    raw = "Before\n%% a note\n\nthat spans\n\nparagraphs %%\nAfter\n"
    cleaned = clean(raw)
    assert "note" not in cleaned and "paragraphs" not in cleaned
    assert cleaned.count("\n") == raw.count("\n")
    assert line_of(cleaned, "After") == line_of(raw, "After") == 7


def test_a_comment_never_closed_hides_the_rest_of_the_file_as_obsidian_does():
    assert clean("Shown\n%% never closed\nhidden\n") == "Shown\n\n\n"


def test_percent_signs_in_code_are_not_comments():
    raw = 'Format with `"%%d"` here.\n```python\nprint("%%s" % 1)\n```\nStill %%gone%% text'
    cleaned = clean(raw)
    assert '`"%%d"`' in cleaned
    assert 'print("%%s" % 1)' in cleaned
    assert cleaned.endswith("Still  text")


def test_a_lone_backtick_does_not_shield_a_comment_in_a_later_paragraph():
    assert clean("It`s here.\n\nSee %%hidden%% this.") == "It`s here.\n\nSee  this."


def test_the_section_after_a_multi_line_comment_keeps_its_line_numbers():
    raw = (
        "---\nslug: intro\n---\n"
        "%% Authors' plan:\n- one\n- two\n%%\n"
        "# Lens: Welcome\n"
        "id:: 1234\n"
    )
    document, errors = parse(raw)
    assert errors == []
    (lens,) = document.sections
    assert lens.line == line_of(raw, "# Lens") == 8
    assert lens.fields["id"].line == line_of(raw, "id::") == 9


# CriticMarkup


@pytest.mark.parametrize(
    "marked, original",
    [
        ("A{>>why this?<<}B", "AB"),
        ("A{++ added++}B", "AB"),
        ("A{-- deleted--}B", "A deletedB"),
        ("A{== highlighted==}B", "A highlightedB"),
        ("A {~~old~>new~~} B", "A old B"),
    ],
    ids=["comment", "addition", "deletion", "highlight", "substitution"],
)
def test_critic_markup_resolves_to_the_original_text(marked, original):
    assert clean(marked) == original


@pytest.mark.parametrize(
    "marked, original",
    [
        ('A{>>{"author":"Ann"}@@why?<<}B', "AB"),
        ('A{++{"author":"Ann","timestamp":1}@@ added++}B', "AB"),
        ('A{--{"author":"Ann"}@@ deleted--}B', "A deletedB"),
        ('A{=={"author":"Ann"}@@ highlighted==}B', "A highlightedB"),
        ('A {~~{"author":"Ann"}@@old~>new~~} B', "A old B"),
        ('A{--{"author":"Ann {x}@@y","meta":{"n":1}}@@ deleted--}B', "A deletedB"),
    ],
    ids=["comment", "addition", "deletion", "highlight", "substitution", "braces-inside-metadata"],
)
def test_a_json_metadata_prefix_is_dropped_with_its_mark(marked, original):
    assert clean(marked) == original


def test_text_that_only_looks_like_metadata_is_kept_in_a_deletion():
    assert clean("{--{not json}@@kept--}") == "{not json}@@kept"


def test_a_multi_line_deletion_keeps_its_text_on_its_own_lines():
    raw = "Start {--{\"author\":\"Ann\"}@@first\n\nsecond--} end\nLast line\n"
    assert clean(raw) == "Start first\n\nsecond end\nLast line\n"


def test_the_field_after_a_multi_line_addition_keeps_its_line_number():
    raw = (
        "# Lens: Welcome\n"
        "id:: 1234\n"
        '{++{"author":"Ann"}@@\n\n#### Text\ncontent:: Suggested segment\n++}\n'
        "#### Text\n"
        "content:: Kept\n"
    )
    document, errors = parse(raw)
    assert errors == []
    lens, text = document.sections
    assert lens.fields["id"].value == "1234"
    assert text.fields["content"].value == "Kept"
    assert (text.type, text.line) == ("text", line_of(raw, "#### Text\ncontent:: Kept"))
    assert text.fields["content"].line == line_of(raw, "content:: Kept") == 9


def test_a_substitution_whose_new_text_spans_lines_keeps_the_lines_after_it():
    raw = "x {~~old~>new\nnewer\nnewest~~} y\nz"
    cleaned = clean(raw)
    assert cleaned == "x old\n\n y\nz"
    assert line_of(cleaned, "z") == line_of(raw, "z")


def test_a_mark_that_is_never_closed_is_plain_text():
    assert clean("a {++b and {--c--} d") == "a {++b and c d"


def test_comments_inside_a_deletion_are_still_removed():
    assert clean("{--keep {>>a note<<}this %%and not this%%--}") == "keep this "


def test_a_suggested_addition_takes_its_comment_with_it():
    raw = 'Text{++{"author":"Ann"}@@\n%%\nnote\n%%++}\nAfter %%real comment%% end'
    assert clean(raw) == "Text\n\n\n\nAfter  end"


def test_a_suggestion_inside_code_is_still_resolved():
    assert clean("`x = {--1--}{++2++}`") == "`x = 1`"


def test_suggestions_in_front_matter_are_resolved_before_the_yaml_is_read():
    raw = (
        "---\n"
        "id: 'a1'\n"
        'minutes: {--{"author":"Ann"}@@5--}{++{"author":"Ann"}@@9++}\n'
        '{++{"author":"Ann"}@@stage: beginner\ndomain: 2\n++}---\n'
        "# Lens: After\n"
    )
    document, errors = parse(raw)
    assert errors == []
    assert document.front_matter == {"id": "a1", "minutes": 5}
    assert document.sections[0].line == line_of(raw, "# Lens") == 7


# Block ids


ARTICLE = (
    "## 1 Setting ^setting\n"
    "\n"
    "A first paragraph\n"
    "that ends on its id. ^first-para\n"
    "\n"
    "- an item ^item-a\n"
    "- another item\n"
    "\n"
    "| a | b |\n"
    "|---|---|\n"
    "\n"
    "^the-table\n"
    "\n"
    "Two to the ^10 is not an id\n"
    "since the paragraph goes on.\n"
    "A footnote[^note-1]\n"
)


def test_block_ids_are_stripped_from_what_learners_see_with_lines_in_place():
    stripped = strip_block_ids(ARTICLE)
    for marker in ("^setting", "^first-para", "^item-a", "^the-table"):
        assert marker not in stripped
    assert "## 1 Setting\n" in stripped and "that ends on its id.\n" in stripped
    assert "Two to the ^10 is not an id" in stripped
    assert "[^note-1]" in stripped
    assert stripped.count("\n") == ARTICLE.count("\n")


@pytest.mark.parametrize(
    "block_id, text, line",
    [
        ("setting", "## 1 Setting", 1),
        ("first-para", "A first paragraph\nthat ends on its id.", 3),
        ("item-a", "- an item", 6),
        ("the-table", "| a | b |\n|---|---|", 9),
    ],
    ids=["heading", "paragraph", "list-item", "id-on-its-own-line"],
)
def test_a_block_is_found_by_its_id(block_id, text, line):
    assert block_text(ARTICLE, block_id) == text
    block = find_block(ARTICLE, block_id)
    assert isinstance(block, TextBlock) and block.line == line
    assert ARTICLE[block.start : block.end] == text


@pytest.mark.parametrize("block_id", ["missing", "10"])
def test_an_id_with_no_block_finds_nothing(block_id):
    assert find_block(ARTICLE, block_id) is None
    assert block_text(ARTICLE, block_id) is None


# Front matter


def test_front_matter_is_read_and_the_body_keeps_its_file_lines():
    front_matter, errors = split_front_matter("---\ntitle: An article\nauthor:\n  - Ann\n---\nBody text\n", "a.md")
    assert errors == []
    assert front_matter.data == {"title": "An article", "author": ["Ann"]}
    assert (front_matter.body, front_matter.body_line) == ("Body text\n", 6)


def test_a_file_without_front_matter_is_all_body():
    front_matter, errors = split_front_matter("# Lens:\nsource:: [[x]]", "a.md")
    assert errors == [] and front_matter.data == {}
    assert (front_matter.body, front_matter.body_line) == ("# Lens:\nsource:: [[x]]", 1)


@pytest.mark.parametrize(
    "raw, error",
    [
        (
            "---\nslug: intro\ntitle: one: two\n---\n",
            "modules/Intro.md:3: front matter is not valid YAML: mapping values are not allowed in this context",
        ),
        (
            "---\n- a list\n---\n",
            "modules/Intro.md:2: front matter must be keys with values, not a single value or a list",
        ),
        ("---\nslug: intro\n", "modules/Intro.md:1: front matter is opened with --- but never closed"),
    ],
    ids=["yaml-error", "not-a-mapping", "never-closed"],
)
def test_bad_front_matter_is_reported_with_its_line(raw, error):
    document, errors = parse(raw)
    assert errors == [error]
    assert document.front_matter == {}


def test_a_yaml_error_does_not_stop_the_sections_being_read():
    document, errors = parse("---\ntitle: [unclosed\n---\n# Lens: Still read\nid:: 1\n")
    assert len(errors) == 1 and errors[0].startswith("modules/Intro.md:")
    assert document.sections[0].fields["id"].value == "1"


# Sections and fields


def test_headings_open_sections_with_their_level_type_and_title():
    raw = (
        "# Submodule: Getting started\n"
        "# LEARNING OUTCOME:\n"
        "## Test:\n"
        "#### Question: Open\n"
        "#### Callout: Optional:  the long way round \n"
        "#### End Callout\n"
        "# Meeting: Unit 1: Kick-off\n"
    )
    document, errors = parse(raw)
    assert errors == []
    assert [(s.level, s.type, s.title, s.line) for s in document.sections] == [
        (1, "submodule", "Getting started", 1),
        (1, "learning outcome", "", 2),
        (2, "test", "", 3),
        (4, "question", "Open", 4),
        (4, "callout", "Optional:  the long way round", 5),
        (4, "end callout", "", 6),
        (1, "meeting", "Unit 1: Kick-off", 7),
    ]


def test_a_tag_is_not_a_heading():
    document, _ = parse("# Text\ncontent:: one\n#tag on its own line\n")
    (text,) = document.sections
    assert text.fields["content"].value == "one\n#tag on its own line"


def test_a_value_runs_over_lines_until_the_next_field_or_heading():
    raw = (
        "#### Question\n"
        "content::\n"
        "First paragraph of the question.\n"
        "\n"
        "- a list item\n"
        "- another\n"
        "\n"
        "\n"
        "assessment-instructions:: Score out of 10.\n"
        "Second line of the rubric.\n"
        "#### Chat\n"
        "instructions:: Be kind.\n"
    )
    document, errors = parse(raw)
    assert errors == []
    question, chat = document.sections
    content = question.fields["content"]
    assert content.value == "First paragraph of the question.\n\n- a list item\n- another"
    assert (content.line, content.value_line) == (2, 3)
    assert question.fields["assessment-instructions"].value == "Score out of 10.\nSecond line of the rubric."
    assert question.fields["assessment-instructions"].line == 9
    assert chat.fields["instructions"].value == "Be kind."


def test_an_escaped_heading_inside_a_value_is_literal_text():
    raw = "#### Text\ncontent::\n\\## Before you read\nSome text.\n\\### A smaller one\n#### Chat\n"
    document, errors = parse(raw)
    assert errors == []
    text, chat = document.sections
    assert text.fields["content"].value == "## Before you read\nSome text.\n### A smaller one"
    assert [s.type for s in document.sections] == ["text", "chat"]


def test_an_unescaped_heading_inside_a_value_opens_a_section():
    document, _ = parse("#### Text\ncontent::\nIntro\n## Oops\nrest\n")
    text, oops = document.sections
    assert text.fields["content"].value == "Intro"
    assert (oops.type, oops.level, oops.preamble) == ("oops", 2, "rest")


def test_text_before_the_first_field_is_kept_as_the_preamble():
    raw = "# Lens: Welcome\n\nStray note one.\nStray note two.\n\nid:: 1234\n"
    document, _ = parse(raw)
    (lens,) = document.sections
    assert lens.preamble == "Stray note one.\nStray note two."
    assert lens.preamble_line == 3
    assert lens.fields["id"].value == "1234"


def test_fields_before_the_first_heading_belong_to_the_file():
    raw = "---\nslug: course\n---\n\napplication-survey:: [[../surveys/Form]]\n\n# Module: [[../modules/One]]\n"
    document, errors = parse(raw, "courses/A.md")
    assert errors == []
    survey = document.file_section.fields["application-survey"]
    assert (survey.value, survey.line) == ("[[../surveys/Form]]", 5)
    assert (document.file_section.level, document.file_section.type) == (0, "")
    assert document.sections[0].fields == {}


def test_a_duplicate_key_is_an_error_naming_file_line_and_field():
    raw = "---\nslug: intro\n---\n# Lens: Welcome\nsource:: [[../Lenses/A]]\n\nsource:: [[../Lenses/B]]\n"
    document, errors = parse(raw)
    assert errors == ['modules/Intro.md:7: field "source": duplicate key in section "Lens"']
    assert document.sections[0].fields["source"].value == "[[../Lenses/A]]", "the first one stands"


def test_every_error_in_a_file_is_collected():
    raw = (
        "---\ntitle: a: b\n---\n"
        "optional:: true\noptional:: false\n"
        "# Lens:\nid:: 1\nid:: 2\n"
        "#### Text\ncontent:: a\ncontent:: b\n"
    )
    _, errors = parse(raw)
    assert errors == [
        "modules/Intro.md:2: front matter is not valid YAML: mapping values are not allowed in this context",
        'modules/Intro.md:5: field "optional": duplicate key before the first heading',
        'modules/Intro.md:8: field "id": duplicate key in section "Lens"',
        'modules/Intro.md:11: field "content": duplicate key in section "Text"',
    ]


def test_the_same_key_in_two_sections_is_not_a_duplicate():
    _, errors = parse("#### Text\ncontent:: a\n#### Text\ncontent:: b\n")
    assert errors == []


def test_a_vault_error_keeps_its_parts_for_callers():
    error = VaultError("modules/Intro.md", 12, "source", 'duplicate key in section "Lens"')
    assert (error.path, error.line, error.field) == ("modules/Intro.md", 12, "source")
    assert str(error) == 'modules/Intro.md:12: field "source": duplicate key in section "Lens"'
    assert str(VaultError("a.md", 1, None, "broken")) == "a.md:1: broken"


# Wikilinks


@pytest.mark.parametrize(
    "written, link",
    [
        ("[[../Lenses/My Lens]]", WikiLink("../Lenses/My Lens", None, None, False)),
        ("[[../modules/Unit one|Unit 1: start]]", WikiLink("../modules/Unit one", None, "Unit 1: start", False)),
        ("![[../Learning Outcomes/Define things]]", WikiLink("../Learning Outcomes/Define things", None, None, True)),
        ("[[../articles/Paper#^intro-2|the intro]]", WikiLink("../articles/Paper", "^intro-2", "the intro", False)),
        ("[[#^appendix-c|C]]", WikiLink("", "^appendix-c", "C", False)),
        ("[[Paper#Section 2]]", WikiLink("Paper", "Section 2", None, False)),
        ("[[../Lenses/In a table\\|shown]]", WikiLink("../Lenses/In a table", None, "shown", False)),
    ],
    ids=["plain", "label", "embed", "block-in-file", "block-here", "heading", "table-pipe"],
)
def test_a_wikilink_is_parsed_into_path_anchor_label_and_embed(written, link):
    assert parse_wikilink(f"  {written} ") == link


def test_a_block_link_names_its_block_id():
    assert parse_wikilink("[[x#^the-id]]").block_id == "the-id"
    assert parse_wikilink("[[x#A heading]]").block_id is None


@pytest.mark.parametrize("value", ["../Lenses/A", "[[a]] and [[b]]", "[[]]", "[[a]] trailing"])
def test_a_field_that_is_not_one_wikilink_is_refused(value):
    with pytest.raises(ValueError, match="is not a wikilink"):
        parse_wikilink(value)


def test_every_wikilink_in_a_text_is_found_in_order():
    text = "See [[../Lenses/A|a lens]] and ![[../glossary/Term]], then [[#^end]]."
    assert find_wikilinks(text) == [
        WikiLink("../Lenses/A", None, "a lens", False),
        WikiLink("../glossary/Term", None, None, True),
        WikiLink("", "^end", None, False),
    ]


def make_vault(root):
    """A vault with spaces in its folder and file names, and a course one folder deeper."""
    for relative in (
        "modules/Unit One Intro.md",
        "Learning Outcomes/Define things.md",
        "courses/user-facing/My Course.md",
        "attachments/diagram.png",
        "modules/Same name.md",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("x", encoding="utf-8")
    (root / "modules" / "Same name").mkdir()
    return root


def in_vault(vault, relative: str):
    """The real path of a vault file, as `resolve` answers it."""
    return (vault / relative).resolve()


def test_a_link_with_spaces_and_a_label_resolves_without_its_md(tmp_path):
    vault = make_vault(tmp_path)
    link = parse_wikilink("[[../modules/Unit One Intro|Unit 1]]")
    target = resolve(link.path, "courses/My Course.md", vault)
    assert target == in_vault(vault, "modules/Unit One Intro.md")


def test_a_link_is_tried_as_written_before_md_is_added(tmp_path):
    vault = make_vault(tmp_path)
    picture = resolve("../attachments/diagram.png", "modules/Unit One Intro.md", vault)
    assert picture == in_vault(vault, "attachments/diagram.png")
    assert resolve("Unit One Intro.md", "modules/Same name.md", vault) == in_vault(vault, "modules/Unit One Intro.md")


def test_a_folder_with_the_links_name_is_not_the_file(tmp_path):
    vault = make_vault(tmp_path)
    assert resolve("Same name", "modules/Unit One Intro.md", vault) == in_vault(vault, "modules/Same name.md")


def test_a_link_climbs_with_dot_dot_from_the_linking_files_folder(tmp_path):
    vault = make_vault(tmp_path)
    from_deeper = resolve("../../Learning Outcomes/Define things", "courses/user-facing/My Course.md", vault)
    assert from_deeper == in_vault(vault, "Learning Outcomes/Define things.md")
    absolute_from = vault / "courses" / "user-facing" / "My Course.md"
    assert resolve("../../modules/Unit One Intro", absolute_from, vault) == in_vault(vault, "modules/Unit One Intro.md")


def test_a_link_to_a_missing_file_resolves_to_nothing(tmp_path):
    vault = make_vault(tmp_path)
    assert resolve("../meetings/Meeting 1", "courses/My Course.md", vault) is None


def test_a_link_to_its_own_file_resolves_to_it(tmp_path):
    vault = make_vault(tmp_path)
    assert resolve("", "modules/Same name.md", vault) == in_vault(vault, "modules/Same name.md")


@pytest.mark.parametrize(
    "link_path, problem",
    [
        ("../../secret", "leads out of the vault"),
        ("../modules/../../secret", "leads out of the vault"),
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/win.ini", "is an absolute path"),
        ("\\\\server\\share\\file", "is an absolute path"),
    ],
    ids=["dot-dot", "dot-dot-inside", "posix-absolute", "windows-drive", "unc"],
)
def test_a_link_out_of_the_vault_is_refused(tmp_path, link_path, problem):
    vault = make_vault(tmp_path / "vault")
    (tmp_path / "secret.md").write_text("not course content", encoding="utf-8")
    with pytest.raises(LinkOutsideVault, match=problem) as refused:
        resolve(link_path, "modules/Unit One Intro.md", vault)
    assert link_path in str(refused.value) and "modules/Unit One Intro.md" in str(refused.value)


def test_a_symlink_leading_out_of_the_vault_is_refused(tmp_path):
    vault = make_vault(tmp_path / "vault")
    (tmp_path / "secret.md").write_text("not course content", encoding="utf-8")
    os.symlink(tmp_path / "secret.md", vault / "modules" / "Shortcut.md")
    with pytest.raises(LinkOutsideVault, match="through a symlink"):
        resolve("Shortcut", "modules/Unit One Intro.md", vault)


def test_a_symlink_within_the_vault_is_followed(tmp_path):
    vault = make_vault(tmp_path)
    os.symlink(vault / "Learning Outcomes" / "Define things.md", vault / "modules" / "Alias.md")
    assert resolve("Alias", "modules/Unit One Intro.md", vault) == in_vault(vault, "Learning Outcomes/Define things.md")


# Clip times


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("0:00", 0.0),
        ("1:05", 65.0),
        ("11:46.2", 706.2),
        ("75:00", 4500.0),
        ("1:02:03", 3723.0),
        ("1:02:03.25", 3723.25),
        (" 3:07.5 ", 187.5),
    ],
)
def test_a_clip_time_is_read_as_seconds(value, seconds):
    assert parse_time(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", ["", "90", "1:5", "1:60", "1:75:00", "100:00", "1:02:03:04", "-1:00", "1:00.", "1m30s", "١:٠٠"]
)
def test_anything_else_is_not_a_clip_time(value):
    with pytest.raises(ValueError) as refused:
        parse_time(value)
    assert f'"{value}"' in str(refused.value)
