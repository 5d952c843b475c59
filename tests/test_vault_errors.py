"""Each error of a Lens vault names its file, line and field, and leaves out only the course it breaks.

Every case copies the good vault (tests/vaults/lens-course) into tmp_path and changes exactly one
thing there. The line is found in the broken file, so it is the line an author's editor shows.
"""
from dataclasses import dataclass

import pytest

from support.vaults import (
    FOCUS_LAB, FOCUS_LAB_FILE, MEMORY_BASICS_FILE, SHOWCASE_FILE, STUDY_SKILLS, STUDY_SKILLS_FILE, break_file, copy_vault,
    line_of,
)
from tracker.content.vault.loader import load_vault
from tracker.content.vault.sections import VaultError


@dataclass(frozen=True)
class Broken:
    """One change to one file, and the error it must give."""

    file: str
    old: str
    new: str
    line: str | int  # a text on the error's line of the broken file, or the line number itself
    field: str | None
    message: str  # a key part of the message: the link as written, the value, the other file
    course: str = STUDY_SKILLS  # the course that reaches the file, and so is left out
    path: str | None = None  # the file the error names, when it is not the one changed
    alone: bool = True  # the only error the change gives (a YAML error also loses the file's id)


CASES = {
    # Links to files that are not there
    "course-module-missing": Broken(
        STUDY_SKILLS_FILE, "[[../../modules/Attention and Focus.md|", "[[../../modules/Attention and Fokus.md|",
        "# Module: [[../../modules/Attention and Fokus.md", "module", "../../modules/Attention and Fokus.md",
    ),
    "lo-source-missing": Broken(
        MEMORY_BASICS_FILE, "[[../Learning Outcomes/Explain the testing effect]]",
        "[[../Learning Outcomes/Explain the testing efect]]", "testing efect", "source",
        "../Learning Outcomes/Explain the testing efect",
    ),
    "lens-source-missing": Broken(
        "modules/Deep Work Sessions.md", "[[../Lenses/Planning a Session]]", "[[../Lenses/Planning a Sesion]]",
        "Planning a Sesion", "source", "../Lenses/Planning a Sesion", course=FOCUS_LAB,
    ),
    "older-lo-lens-source-missing": Broken(
        "Learning Outcomes/Name common distractions.md", "[[../Lenses/Distraction Diary]]", "[[../Lenses/Distraction Dairy]]",
        "Distraction Dairy", "source", "../Lenses/Distraction Dairy",
    ),
    "article-source-missing": Broken(
        SHOWCASE_FILE, "[[../articles/How Memories Form]]", "[[../articles/How Memory Forms]]",
        "How Memory Forms", "source", "../articles/How Memory Forms",
    ),
    "video-source-missing": Broken(
        "Lenses/The Forgetting Curve.md", "Forgetting Curve Lecture.md]]", "Forgetting Curve Lecture 5.md]]",
        "Lecture 5", "source", "../video_transcripts/Forgetting Curve Lecture 5.md",
    ),
    "first-article-without-source": Broken(  # named at the first `#### Article` heading, line 5
        "Lenses/Reading With Questions.md", "source:: [[../articles/The Reading Habit.md]]\n", "",
        5, "source", "source", course=FOCUS_LAB, alone=False,  # the later Articles had nothing to reuse either
    ),
    # Links that lead out of the vault are refused, however they are written
    "link-climbs-out-of-the-vault": Broken(
        "modules/Reading Actively.md", "[[../Lenses/Reading With Questions]]", "[[../../../outside/Reading With Questions]]",
        "outside/Reading With Questions", "source", "../../../outside/Reading With Questions", course=FOCUS_LAB,
    ),
    "absolute-link": Broken(
        "modules/Note Taking.md", "[[../Lenses/Notes That Work]]", "[[/etc/Notes That Work]]",
        "/etc/Notes That Work", "source", "/etc/Notes That Work",
    ),
    # Ids
    "lens-without-id": Broken(
        "Lenses/Distraction Diary.md", "id: 'db7d9608-e9ba-4c5b-9e91-fed952f9d864'\n", "", 1, "id", "id",
    ),
    "malformed-lens-uuid-in-a-crlf-file": Broken(
        "Lenses/Single-Tasking.md", "id: '7203be0a-4c08-4944-aafb-e1833c5500e1'", "id: '7203be0a-4c08-4944-aafb-e1833c5500eX'",
        "id: '7203be0a", "id", "7203be0a-4c08-4944-aafb-e1833c5500eX",
    ),
    "malformed-inline-lens-uuid": Broken(
        MEMORY_BASICS_FILE, "id:: 224b7630-1c2c-4c4a-bd96-317b324c576a", "id:: 224b7630-1c2c-4c4a-bd96",
        "id:: 224b7630", "id", "224b7630-1c2c-4c4a-bd96",
    ),
    "malformed-contentId": Broken(
        "modules/Attention and Focus.md", "contentId: '6828d42c-65f7-4ac4-846e-b694e1870cc6'", "contentId: '6828d42c'",
        "contentId:", "id", "6828d42c",
    ),
    "malformed-lo-uuid": Broken(
        "Learning Outcomes/Read with a question in mind.md", "id: '11cc98bc-d7f0-4f67-9194-c39db49eb639'",
        "id: 11cc98bc-d7f0-4f67-9194", "id: 11cc98bc", "id", "11cc98bc-d7f0-4f67-9194", course=FOCUS_LAB,
    ),
    "same-uuid-for-two-lenses": Broken(
        "Lenses/Distraction Diary.md", "id: 'db7d9608-e9ba-4c5b-9e91-fed952f9d864'", "id: 'e30f6684-e506-49bc-bc8b-439f999d0906'",
        "id: 'e30f6684", "id", SHOWCASE_FILE,
    ),
    "same-uuid-for-two-modules": Broken(
        "modules/Note Taking.md", "id: 'ad288195-54e6-4eb6-9b31-ade9166f6a75'", "id: '747b7769-9dc2-4ee5-87b2-630a04c6b492'",
        "id: '747b7769", "id", MEMORY_BASICS_FILE,
    ),
    "same-uuid-for-two-los": Broken(
        "Learning Outcomes/Summarise a lecture in your own words.md", "id: 'e8b2abce-b724-43c8-8a93-97cd1c3e5efd'",
        "id: '105bd3cf-b0a5-4f61-8bee-bd18054978fd'", "id: '105bd3cf", "id",
        "Learning Outcomes/Describe the stages of memory.md",
    ),
    # A lens is linked or inline, never both
    "inline-lens-with-a-source": Broken(
        "modules/Deep Work Sessions.md", "id:: 6c131aa5-47c3-4e69-b285-f68f6a54f61c\n",
        "id:: 6c131aa5-47c3-4e69-b285-f68f6a54f61c\nsource:: [[../Lenses/Single-Tasking]]\n",
        "source:: [[../Lenses/Single-Tasking]]", "source", "source", course=FOCUS_LAB,
    ),
    "linked-lens-followed-by-segments": Broken(
        "modules/Reading Actively.md", "source:: [[../Lenses/Reading With Questions]]\n",
        "source:: [[../Lenses/Reading With Questions]]\n#### Text\ncontent:: A stray segment.\n",
        "source:: [[../Lenses/Reading With Questions]]", "source", "source", course=FOCUS_LAB,
    ),
    # Clip times
    "clip-from-not-a-time": Broken(SHOWCASE_FILE, "from:: 0:04.5", "from:: 0:4.5", "from:: 0:4.5", "from", "0:4.5"),
    "clip-to-not-a-time": Broken("Lenses/The Forgetting Curve.md", "to:: 1:05:00", "to:: 1h05", "to:: 1h05", "to", "1h05"),
    # Parsing
    "yaml-that-does-not-parse": Broken(
        "Lenses/Memory Myths.md", "title: Three memory myths", "title: Three memory: myths", "title: Three memory: myths",
        None, "YAML", alone=False,
    ),
    "same-key-twice-in-a-section": Broken(
        "Lenses/Protecting the Session.md", "content:: What interrupted your last session?\n",
        "content:: What interrupted your last session?\ncontent:: And the one before?\n",
        "content:: And the one before?", "content", "duplicate", course=FOCUS_LAB,
    ),
    # Required front matter
    "module-without-slug": Broken(
        "modules/Reading Actively.md", "slug: reading-actively\n", "", 1, "slug", "required", course=FOCUS_LAB,
    ),
    "module-without-title": Broken(MEMORY_BASICS_FILE, "title: Memory Basics\n", "", 1, "title", "required"),
    "course-without-slug": Broken(FOCUS_LAB_FILE, "slug: focus-lab\n", "", 1, "slug", "required", course=FOCUS_LAB),
    "course-without-title": Broken(STUDY_SKILLS_FILE, 'title: "Study Skills"\n', "", 1, "title", "required"),
    # Required fields of segments
    "question-without-id": Broken(
        "Lenses/Distraction Diary.md", "id:: diary-top-three\n", "", "#### Question: Open", "id", "id",
    ),
    "chat-without-instructions": Broken(
        "Lenses/Single-Tasking.md", "instructions:: Help the learner pick the one task for their next focus block.",
        "content:: Which task will you pick?", "#### Chat", "instructions", "instructions",
    ),
    "text-without-content": Broken(
        "Lenses/Memory Myths.md", "content::\n**Myth one:**", "**Myth one:**", "#### Text", "content", "content",
    ),
    # Flags
    "optional-not-true-or-false": Broken(
        MEMORY_BASICS_FILE, "The forgetting curve]]\noptional:: true", "The forgetting curve]]\noptional:: yes",
        "optional:: yes", "optional", "yes",
    ),
    "hide-not-true-or-false": Broken(MEMORY_BASICS_FILE, "hide:: true", "hide:: maybe", "hide:: maybe", "hide", "maybe"),
    "hide-without-optional": Broken(
        MEMORY_BASICS_FILE, "[[../Lenses/Memory Myths.md]]\noptional:: true\n", "[[../Lenses/Memory Myths.md]]\n",
        "hide:: true", "hide", "optional",
    ),
    # Estimates
    "min-chat-messages-not-positive": Broken(
        "Lenses/The Forgetting Curve.md", "min_chat_messages: 2", "min_chat_messages: 0", "min_chat_messages:",
        "min_chat_messages", "0",
    ),
    "reading-minutes-not-a-number": Broken(
        "Lenses/The Forgetting Curve.md", "reading_minutes: 4", "reading_minutes: four", "reading_minutes:",
        "reading_minutes", "four",
    ),
    "tutor-minutes-negative": Broken(
        "Lenses/The Forgetting Curve.md", "tutor_minutes: 6", "tutor_minutes: -6", "tutor_minutes:", "tutor_minutes", "-6",
    ),
    "duration-minutes-not-positive": Broken(
        "Lenses/Memory Myths.md", "duration_minutes: 3", "duration_minutes: 0", "duration_minutes:", "duration_minutes", "0",
    ),
    "duration-minutes-with-reading-minutes": Broken(
        "Lenses/Planning a Session.md", "duration_minutes: 12", "reading_minutes: 5\nduration_minutes: 12",
        "duration_minutes:", "duration_minutes", "reading_minutes", course=FOCUS_LAB,
    ),
    "inline-lens-reading-minutes-not-a-number": Broken(
        MEMORY_BASICS_FILE, "reading_minutes:: 2", "reading_minutes:: two", "reading_minutes:: two", "reading_minutes", "two",
    ),
    # A module must have something to complete
    "module-with-no-required-lens": Broken(
        "modules/Reading Actively.md", "source:: [[../Lenses/Reading With Questions]]\n",
        "source:: [[../Lenses/Reading With Questions]]\noptional:: true\n", 1, None, "required", course=FOCUS_LAB,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_broken_file_gives_an_error_naming_its_file_line_and_field(tmp_path, case):
    vault = copy_vault(tmp_path)
    break_file(vault, case.file, case.old, case.new)
    result = load_vault(vault)
    path = case.path or case.file
    line = case.line if isinstance(case.line, int) else line_of(vault, path, case.line)
    errors = "\n".join(str(e) for e in result.errors)
    matching = [e for e in result.errors if (e.path, e.line, e.field) == (path, line, case.field)]
    assert matching, f"expected {path}:{line} field {case.field!r}, got:\n{errors}"
    assert any(case.message in e.message for e in matching), errors
    if case.alone:
        assert len(result.errors) == 1, errors
    else:
        assert {e.path for e in result.errors} == {path}, errors


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_broken_course_is_left_out_and_the_other_one_is_served(tmp_path, case):
    vault = copy_vault(tmp_path)
    break_file(vault, case.file, case.old, case.new)
    courses = load_vault(vault).index.courses_by_slug
    other = FOCUS_LAB if case.course == STUDY_SKILLS else STUDY_SKILLS
    assert case.course not in courses
    assert other in courses
    assert [ref.module.slug for ref in courses[other].module_refs] == {
        STUDY_SKILLS: ["memory-basics", "attention-and-focus", "note-taking"],
        FOCUS_LAB: ["deep-work-sessions", "reading-actively"],
    }[other]


def test_a_link_error_quotes_the_wikilink_as_the_author_wrote_it(tmp_path):
    vault = copy_vault(tmp_path)
    break_file(vault, STUDY_SKILLS_FILE, "[[../../modules/Note Taking]]", "[[../../modules/Note Takeing]]")
    (error,) = load_vault(vault).errors
    assert "[[../../modules/Note Takeing]]" in error.message
    assert str(error) == f'{STUDY_SKILLS_FILE}:{error.line}: field "module": {error.message}'


def test_every_error_of_a_file_is_reported_at_once(tmp_path):
    vault = copy_vault(tmp_path)
    break_file(vault, SHOWCASE_FILE, "from:: 0:04.5\nto:: 0:31", "from:: 0:4.5\nto:: 31")
    break_file(vault, SHOWCASE_FILE, "id:: stages-in-your-words\n", "")
    where = {(e.path, e.line, e.field) for e in load_vault(vault).errors}
    assert (SHOWCASE_FILE, line_of(vault, SHOWCASE_FILE, "from:: 0:4.5"), "from") in where
    assert (SHOWCASE_FILE, line_of(vault, SHOWCASE_FILE, "#### Question: Open"), "id") in where


def test_an_error_in_a_file_both_courses_reach_leaves_both_out(tmp_path):
    vault = copy_vault(tmp_path)
    # Focus Lab's last module now also lists a lens of Study Skills, and that lens breaks.
    break_file(vault, "modules/Reading Actively.md", "[[../Lenses/Reading With Questions]]\n",
               "[[../Lenses/Reading With Questions]]\n\n# Lens:\nsource:: [[../Lenses/Single-Tasking]]\n")
    break_file(vault, "Lenses/Single-Tasking.md", "#### Chat\ninstructions::", "#### Chat\ncontent::")
    result = load_vault(vault)
    assert result.index.courses == ()
    assert isinstance(result.errors[0], VaultError)
    assert {e.path for e in result.errors} == {"Lenses/Single-Tasking.md"}
