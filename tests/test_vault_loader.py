"""The Lens vault loader on a good vault: what the index holds, course by course and segment by segment.

The vault is tests/vaults/lens-course (see tests/support/vaults.py for its ids). Every rule of
/work/shared/LENS-FORMAT.md and of the loader's spec has a file there, and a test here that says
what a learner gets from it. No database and no Flask app: the loader has neither.
"""
import re
import shutil
from uuid import UUID

import pytest

from support.vaults import (
    ATTENTION_AND_FOCUS, CORNELL_NOTES, CRLF_FILE, DEEP_WORK_SESSIONS, DISTRACTION_DIARY, FOCUS_LAB, FORGETTING_CURVE,
    GOOD_VAULT, LO_DISTRACTIONS, LO_FOCUS_BLOCK, LO_PLAN_DEEP_WORK, LO_READ_QUESTION, LO_RETRIEVAL_SESSION,
    LO_REVIEW_WEEK, LO_STAGES, LO_SUMMARISE, LO_TESTING_EFFECT, MEMORY_BASICS, MEMORY_BASICS_FILE, MEMORY_MYTHS,
    NOTE_TAKING, NOTES_THAT_WORK, PLANNING_A_SESSION, POMODORO_PRIMER, PROTECTING_THE_SESSION, READING_ACTIVELY,
    READING_WITH_QUESTIONS, SELF_TESTING, SHOWCASE, SINGLE_TASKING, SPACED_REVIEW, STUDY_SKILLS,
    STUDY_SKILLS_FILE, TEST_FOCUS_BLOCK, TWO_MINUTE_RESET, WELCOME_TO_MEMORY, WELCOME_TO_NOTES, WHAT_DEEP_WORK_IS,
    WHERE_ATTENTION_GOES, break_file, copy_vault, line_of, read_text,
)
from tracker.content.estimates import estimate_s
from tracker.content.model import (
    ArticleSegment, ArticleSource, CalloutSegment, ChatSegment, Meeting, NoticeSegment, QuestionSegment, TextSegment,
    VideoSegment,
)
from tracker.content.vault.loader import group_outcome_id, implicit_outcome_id, is_vault, load_vault

STAGES = "Describe how a memory is encoded, stored and retrieved"
TESTING_EFFECT = "Explain why testing yourself helps you remember more than rereading"
RETRIEVAL_SESSION = "Plan a retrieval practice session for a topic you are studying"
DISTRACTIONS = "Name the distractions that most often break your focus"
FOCUS_BLOCK = "Design a focus block that fits your day"

HOW_MEMORIES_FORM = ArticleSource(
    title="How Memories Form", author="Dana Whitlock", url="https://example.org/articles/how-memories-form",
    published="2024-03-18",  # YAML reads an unquoted date as a date; the learner sees it as written
)
READING_HABIT = ArticleSource(
    title="The Reading Habit", author="Priya Raman", url="https://example.org/essays/the-reading-habit", published=None,
)
STUDY_LAB_VIDEO = "https://www.youtube.com/watch?v=Qm3vXb7LpT0"


@pytest.fixture(scope="module")
def loaded():
    return load_vault(GOOD_VAULT)


@pytest.fixture(scope="module")
def index(loaded):
    return loaded.index


def lens(index, lens_id: UUID):
    return index.lenses_by_id[lens_id]


def outcome_rows(module):
    """Each outcome of a module as (id, title, statements, member ids, submodule, [(lens id, optional, hidden)])."""
    return [
        (o.id, o.title, o.statements, o.member_ids, o.submodule, [(r.lens.id, r.optional, r.hidden) for r in o.lens_refs])
        for o in module.outcomes
    ]


# The vault as a whole


def test_the_good_vault_loads_without_an_error(loaded):
    assert loaded.errors == ()


def test_the_good_vault_gives_exactly_the_warnings_planted_in_it(loaded):
    vault = GOOD_VAULT
    planted = {
        # A meeting document that is not written yet: the course still serves.
        (STUDY_SKILLS_FILE, line_of(vault, STUDY_SKILLS_FILE, "meeting-doc:: [[../../meetings/Study Skills/Week 2]]"),
         "meeting-doc"): "../../meetings/Study Skills/Week 2",
        # Segment kinds tracker cannot show: a notice in their place.
        ("modules/Note Taking.md", line_of(vault, "modules/Note Taking.md", "#### Widget"), None): "Widget",
        ("Lenses/Notes That Work.md", line_of(vault, "Lenses/Notes That Work.md", "#### Interview"), None): "Interview",
        # A block anchor the article does not have: the excerpt runs from the article's start.
        ("Lenses/Reading With Questions.md",
         line_of(vault, "Lenses/Reading With Questions.md", "from:: [[#^no-such-block]]"), "from"): "no-such-block",
        # An LO that no lens serves is not an outcome (nothing to complete).
        ("modules/Deep Work Sessions.md",
         line_of(vault, "modules/Deep Work Sessions.md", "[[../Learning Outcomes/Review a week of focus]]") - 1,
         None): "Review a week of focus sessions",
        # A glossary term whose note is not written yet: the lens still serves, without that term.
        ("Lenses/Self-Testing.md", line_of(vault, "Lenses/Self-Testing.md", "glossary_terms:"), "glossary_terms"):
            "../glossary/Desirable difficulty",
        # The same question id in two lenses of one module, named where the second one is written.
        (MEMORY_BASICS_FILE, line_of(vault, MEMORY_BASICS_FILE, "id:: recall-check"), "id"): "recall-check",
    }
    found = {(w.path, w.line, w.field): w.message for w in loaded.warnings}
    assert set(found) == set(planted), "\n".join(str(w) for w in loaded.warnings)
    for where, key_part in planted.items():
        assert key_part in found[where], f"{where}: {found[where]}"


def test_the_summary_counts_what_was_loaded(loaded):
    # Learning outcomes are LO files (a group counts each of its LOs); segments include those inside callouts.
    assert loaded.summary == (
        "2 courses, 5 modules, 8 learning outcomes, 17 lenses, 46 segments loaded; 0 errors, 7 warnings"
    )


def test_a_folder_with_modules_and_Lenses_is_a_vault(tmp_path):
    assert is_vault(GOOD_VAULT)
    (tmp_path / "modules").mkdir()
    assert not is_vault(tmp_path), "no Lenses/ folder"
    (tmp_path / "Lenses").mkdir()
    assert is_vault(tmp_path)
    (tmp_path / "lenses").mkdir()
    assert not is_vault(tmp_path), "tracker's own format has lenses/ in lower case"


def test_files_no_course_reaches_are_not_read_even_when_broken(loaded, index):
    # Archive/Old Module.md and Lenses/Draft - Unfinished.md are broken (bad YAML, missing sources,
    # the showcase's UUID again); AI Guide/Notes.md links to a file that does not exist.
    problems = loaded.errors + loaded.warnings
    assert not [p for p in problems if p.path.startswith(("Archive/", "AI Guide/", "Lenses/Draft", "widgets/"))]
    assert index.lenses_by_id[SHOWCASE].name == "every-kind-of-segment"


def test_tests_and_suggested_lenses_of_LO_files_are_never_imported(loaded, index):
    # Lenses/Pomodoro Primer.md has no id: read, it would be an error. Focus Music does not exist.
    assert POMODORO_PRIMER not in index.lenses_by_id
    assert "pomodoro-primer" not in index.lenses_by_name
    assert not [p for p in loaded.errors + loaded.warnings if "Pomodoro" in str(p) or "Focus Music" in str(p)]
    assert TEST_FOCUS_BLOCK not in index.outcomes_by_id
    tested = "Describe tomorrow's focus block"
    assert not [s for each in index.lenses for s in each.all_segments if tested in getattr(s, "prompt", "")]


def test_loading_twice_gives_the_same_index(index):
    again = load_vault(GOOD_VAULT).index
    assert again.courses == index.courses
    assert list(again.outcomes_by_id) == list(index.outcomes_by_id)


def test_derived_outcome_ids_do_not_depend_on_where_the_vault_is(tmp_path, index):
    moved = load_vault(copy_vault(tmp_path, "somewhere else")).index
    assert set(moved.outcomes_by_id) == set(index.outcomes_by_id)
    assert group_outcome_id(MEMORY_BASICS, [LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION]) in moved.outcomes_by_id
    assert implicit_outcome_id(ATTENTION_AND_FOCUS, "Noticing distraction") in moved.outcomes_by_id


def test_derived_ids_follow_the_order_of_the_los_and_the_submodule():
    forwards = group_outcome_id(MEMORY_BASICS, [LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION])
    assert forwards == group_outcome_id(MEMORY_BASICS, (LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION))
    assert forwards != group_outcome_id(MEMORY_BASICS, [LO_RETRIEVAL_SESSION, LO_TESTING_EFFECT])
    assert forwards != group_outcome_id(NOTE_TAKING, [LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION])
    assert implicit_outcome_id(MEMORY_BASICS, None) != implicit_outcome_id(MEMORY_BASICS, "How memory works")
    assert implicit_outcome_id(MEMORY_BASICS, None) != implicit_outcome_id(NOTE_TAKING, None)
    every_id = {forwards, implicit_outcome_id(MEMORY_BASICS, None), LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION, MEMORY_BASICS}
    assert len(every_id) == 5


# Courses


def test_courses_have_their_slug_title_and_description(index):
    assert set(index.courses_by_slug) == {STUDY_SKILLS, FOCUS_LAB}
    study = index.courses_by_slug[STUDY_SKILLS]
    assert study.title == "Study Skills"
    assert study.description == "How memory, attention and notes work, and how to put them to use in your own study week."
    focus = index.courses_by_slug[FOCUS_LAB]
    assert (focus.title, focus.description) == ("Focus Lab", "")


def test_a_course_lists_its_modules_in_order_with_the_optional_one_marked(index):
    study = index.courses_by_slug[STUDY_SKILLS]
    assert [(ref.module.slug, ref.optional) for ref in study.module_refs] == [
        ("memory-basics", False), ("attention-and-focus", False), ("note-taking", True),
    ]
    focus = index.courses_by_slug[FOCUS_LAB]
    assert [(ref.module.id, ref.optional) for ref in focus.module_refs] == [
        (DEEP_WORK_SESSIONS, False), (READING_ACTIVELY, False),
    ]
    every_module = {MEMORY_BASICS, ATTENTION_AND_FOCUS, NOTE_TAKING, DEEP_WORK_SESSIONS, READING_ACTIVELY}
    assert {m.id for m in index.modules} == every_module


def test_meetings_are_numbered_and_know_how_many_modules_prepare_for_them(index):
    study = index.courses_by_slug[STUDY_SKILLS]
    # The second meeting's heading carries a suggested rename ({~~old~>new~~}): the original stands.
    assert study.meetings == (
        Meeting(number=1, name="Week 1 check-in", after_modules=1),
        Meeting(number=2, name="Week 2 review", after_modules=2),
    )
    assert [study.meeting_before(position) for position in range(3)] == [study.meetings[0], study.meetings[1], None]
    assert index.courses_by_slug[FOCUS_LAB].meetings == ()


# Modules and the hierarchy rule


def test_a_module_has_its_id_slug_title_and_introduction(index):
    memory = index.modules_by_slug["memory-basics"]
    assert (memory.id, memory.title) == (MEMORY_BASICS, "Memory Basics")
    assert memory.introduction == (
        "How memory takes in, keeps and gives back what you study, and why testing yourself beats\n"
        "reading your notes again."
    )
    assert index.modules_by_slug["note-taking"].introduction == ""


def test_an_older_module_gives_its_id_as_contentId(index):
    attention = index.modules_by_id[ATTENTION_AND_FOCUS]
    assert (attention.slug, attention.title) == ("attention-and-focus", "Attention and Focus")


def test_memory_basics_has_an_implicit_outcome_a_single_lo_and_a_group_of_two(index):
    memory = index.modules_by_id[MEMORY_BASICS]
    assert outcome_rows(memory) == [
        # The welcome lens comes before any LO and any submodule: the module's own outcome.
        (implicit_outcome_id(MEMORY_BASICS, None), "Memory Basics", (), (), None, [(WELCOME_TO_MEMORY, False, False)]),
        # One LO: that LO, with its statement as its title.
        (LO_STAGES, STAGES, (STAGES,), (LO_STAGES,), "How memory works", [
            (SHOWCASE, False, False), (FORGETTING_CURVE, True, False), (MEMORY_MYTHS, True, True),
        ]),
        # Two LOs in a row: one outcome for both, named for its submodule.
        (group_outcome_id(MEMORY_BASICS, [LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION]), "Practising recall",
         (TESTING_EFFECT, RETRIEVAL_SESSION), (LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION), "Practising recall", [
            (SELF_TESTING, False, False), (SPACED_REVIEW, False, False),
        ]),
    ]
    assert memory.required_lens_ids == {WELCOME_TO_MEMORY, SHOWCASE, SELF_TESTING, SPACED_REVIEW}


def test_lenses_before_any_lo_of_a_submodule_form_its_implicit_outcome(index):
    attention = index.modules_by_id[ATTENTION_AND_FOCUS]
    assert outcome_rows(attention) == [
        (implicit_outcome_id(ATTENTION_AND_FOCUS, "Noticing distraction"), "Noticing distraction", (), (),
         "Noticing distraction", [(WHERE_ATTENTION_GOES, False, False)]),
        # An optional LO section is still an outcome. The LO file is of the older kind and lists a
        # lens itself: that one comes after the lenses the module lists for it.
        (LO_DISTRACTIONS, DISTRACTIONS, (DISTRACTIONS,), (LO_DISTRACTIONS,), "Noticing distraction", [
            (TWO_MINUTE_RESET, False, False), (DISTRACTION_DIARY, False, False),
        ]),
        (LO_FOCUS_BLOCK, FOCUS_BLOCK, (FOCUS_BLOCK,), (LO_FOCUS_BLOCK,), "Protecting focus", [
            (SINGLE_TASKING, False, False),
        ]),
    ]


def test_a_commented_out_lens_section_is_not_read(index):
    attention = index.modules_by_id[ATTENTION_AND_FOCUS]
    assert {section.lens.id for section in attention.sections} == {
        WHERE_ATTENTION_GOES, TWO_MINUTE_RESET, DISTRACTION_DIARY, SINGLE_TASKING,
    }
    assert len(attention.sections) == 4
    assert "phone-free-study" not in index.lenses_by_name


def test_an_lo_that_no_lens_serves_is_not_an_outcome(index):
    deep_work = index.modules_by_id[DEEP_WORK_SESSIONS]
    assert outcome_rows(deep_work) == [
        (implicit_outcome_id(DEEP_WORK_SESSIONS, None), "Deep Work Sessions", (), (), None, [
            (WHAT_DEEP_WORK_IS, False, False), (PLANNING_A_SESSION, False, False),
        ]),
        (LO_PLAN_DEEP_WORK, "Plan a deep work session with a goal, a length and an end",
         ("Plan a deep work session with a goal, a length and an end",), (LO_PLAN_DEEP_WORK,), None, [
            (PROTECTING_THE_SESSION, False, False),
        ]),
    ]
    assert LO_REVIEW_WEEK not in index.outcomes_by_id


def test_the_other_modules_outcomes(index):
    notes = index.modules_by_id[NOTE_TAKING]
    summarise = "Summarise a lecture in your own words"
    assert outcome_rows(notes) == [
        (implicit_outcome_id(NOTE_TAKING, None), "Note Taking", (), (), None, [(WELCOME_TO_NOTES, False, False)]),
        (LO_SUMMARISE, summarise, (summarise,), (LO_SUMMARISE,), None, [
            (CORNELL_NOTES, False, False), (NOTES_THAT_WORK, False, False),
        ]),
    ]
    reading = index.modules_by_id[READING_ACTIVELY]
    assert [(o.id, [r.lens.id for r in o.lens_refs]) for o in reading.outcomes] == [
        (LO_READ_QUESTION, [READING_WITH_QUESTIONS]),
    ]


def test_each_lens_is_placed_where_its_module_lists_it(index):
    (placement,) = index.placements_of(MEMORY_MYTHS)
    assert (placement.module.id, placement.outcome.id, placement.optional) == (MEMORY_BASICS, LO_STAGES, True)
    memory = index.modules_by_id[MEMORY_BASICS]
    myths = memory.section_for(MEMORY_MYTHS)
    assert (myths.optional, myths.hidden) == (True, True)
    assert memory.section_named("every-kind-of-segment").lens.id == SHOWCASE
    assert memory.section_named(str(SPACED_REVIEW)).lens.title == "Spaced review"


# Lenses: names, titles and what their front matter says


def test_a_lens_is_named_by_its_file_and_titled_by_its_front_matter(index):
    showcase = lens(index, SHOWCASE)
    assert (showcase.name, showcase.title) == ("every-kind-of-segment", "How a memory is made")
    assert index.lenses_by_name["self-testing"].id == SELF_TESTING


def test_a_linked_lens_without_a_title_is_titled_by_its_file_not_the_module_heading(index):
    # Memory Basics writes `# Lens: The forgetting curve`; the lens file has no title.
    assert lens(index, FORGETTING_CURVE).title == "The Forgetting Curve"
    assert lens(index, SINGLE_TASKING).title == "Single-Tasking"


def test_an_inline_lens_is_named_and_titled_by_its_heading(index):
    spaced = lens(index, SPACED_REVIEW)
    assert (spaced.name, spaced.title) == ("spaced-review", "Spaced review")
    assert lens(index, WHAT_DEEP_WORK_IS).name == "what-deep-work-is"


def test_two_lenses_with_the_same_name_are_told_apart_by_their_ids(index):
    # Memory Basics and Note Taking both open with an inline "# Lens: Welcome".
    names = {lens(index, WELCOME_TO_MEMORY).name, lens(index, WELCOME_TO_NOTES).name}
    one_of_them = {"welcome", f"welcome-{str(WELCOME_TO_MEMORY)[:8]}", f"welcome-{str(WELCOME_TO_NOTES)[:8]}"}
    assert "welcome" in names and names <= one_of_them and len(names) == 2
    assert {lens(index, WELCOME_TO_MEMORY).title, lens(index, WELCOME_TO_NOTES).title} == {"Welcome"}


@pytest.mark.parametrize(
    "lens_id, kind",
    [
        (SHOWCASE, "article"), (FORGETTING_CURVE, "video"), (MEMORY_MYTHS, "text"), (SELF_TESTING, "video"),
        (WHERE_ATTENTION_GOES, "chat"), (DISTRACTION_DIARY, "question"), (CORNELL_NOTES, "text"),
        (READING_WITH_QUESTIONS, "article"), (WHAT_DEEP_WORK_IS, "question"),
    ],
)
def test_a_lens_type_is_its_first_article_video_chat_or_question(index, lens_id, kind):
    assert lens(index, lens_id).type == kind


def test_front_matter_gives_the_tldr_and_the_tutors_context(index):
    showcase = lens(index, SHOWCASE)
    assert showcase.tldr == (
        "Memory is three jobs done in turn, encoding, storage and retrieval, and retrieval is the one you can train."
    )
    assert showcase.summary_for_tutor == (
        "The learner meets encoding, storage and retrieval for the first time. They have read a "
        "short article and watched a clip; check that they can tell the three apart."
    )
    assert showcase.tutor_instructions == (
        "Ask the learner to name the three jobs in their own words.\n"
        "If they mix up storage and retrieval, give an everyday example: finding your keys."
    )
    assert lens(index, MEMORY_MYTHS).tutor_instructions is None


def test_an_inline_lens_gives_its_front_matter_as_fields(index):
    welcome = lens(index, WELCOME_TO_MEMORY)
    assert welcome.tldr == "A short tour of this module and what you will be able to do after it."
    assert welcome.reading_minutes == 2
    spaced = lens(index, SPACED_REVIEW)
    assert spaced.summary_for_tutor == (
        "The learner has just tried self-testing. Help them turn it into a schedule:\nshort gaps first, then longer ones."
    )


def test_min_chat_messages_is_read_and_defaults_to_one(index):
    assert lens(index, FORGETTING_CURVE).min_chat_messages == 2
    assert lens(index, SHOWCASE).min_chat_messages == 1


@pytest.mark.parametrize(
    "lens_id, seconds",
    [
        (PLANNING_A_SESSION, 12 * 60),  # duration_minutes wins over everything, the chat too
        (MEMORY_MYTHS, 3 * 60),
        (FORGETTING_CURVE, 4 * 60 + 6 * 60),  # reading_minutes and tutor_minutes, not the clip
        (WELCOME_TO_MEMORY, 2 * 60),  # an inline lens's reading_minutes:: field
        # Words at 200 a minute, per segment: text 27 words (9 s), excerpt 84 (26 s), question 26 (8 s);
        # the clip 0:04.5-0:31 (27 s); the chat's allowance.
        (SHOWCASE, 9 + 26 + 27 + 8 + 600),
        (PROTECTING_THE_SESSION, 6 + 2 + 2 + 600),  # two chats, one allowance
        (SINGLE_TASKING, 10 + 600),
        (DISTRACTION_DIARY, 5 + 3),
    ],
)
def test_a_lens_estimate_is_the_authors_or_its_reading_watching_and_chatting(index, lens_id, seconds):
    assert estimate_s(lens(index, lens_id), 600) == seconds


def test_estimates_are_kept_as_the_author_gave_them(index):
    planning = lens(index, PLANNING_A_SESSION)
    assert (planning.estimate_minutes, planning.reading_minutes, planning.tutor_minutes) == (12, None, None)
    curve = lens(index, FORGETTING_CURVE)
    assert (curve.estimate_minutes, curve.reading_minutes, curve.tutor_minutes) == (None, 4, 6)


# Segments


def test_the_showcase_lens_has_every_main_kind_of_segment_in_order(index):
    showcase = lens(index, SHOWCASE)
    assert [type(s) for s in showcase.segments] == [TextSegment, ArticleSegment, VideoSegment, ChatSegment, QuestionSegment]
    text, article, video, chat, question = showcase.segments
    assert text == TextSegment(
        "Memory is not one thing but three jobs, done one after the other.\n\n"
        "Read the passage below, then watch the clip: both name the same three jobs."
    )
    assert article.source == HOW_MEMORIES_FORM
    assert (video.url, video.start_s, video.end_s, video.duration_s) == (STUDY_LAB_VIDEO, 4.5, 31.0, 27)
    assert video.media_kind == "youtube"
    assert chat.prompt == ""
    assert question == QuestionSegment(
        id="stages-in-your-words",
        prompt="In two or three sentences, describe what happens to something you learn today, "
        "from the moment you read it until you need it in an exam.",
        style="open",
    )


def test_an_excerpt_runs_from_a_heading_to_a_block_both_included_without_block_ids(index):
    article = lens(index, SHOWCASE).segments[1]
    assert article.markdown.strip() == (
        "### Three jobs, one system\n"
        "\n"
        "Encoding is the first job: turning what you see and hear into a form the brain can keep. It\n"
        "works best when you pay attention and link the new thing to something you already know.\n"
        "\n"
        "Storage is the second job. A new memory is fragile for hours, and a night's sleep helps it\n"
        "last.\n"
        "\n"
        # {==neglect==} is a highlight: its text is the original.
        "Retrieval is the third job, and the one students neglect. Every time you bring a memory\n"
        "back, the path to it gets easier to find."
    )


def test_excerpts_with_only_one_anchor_and_later_ones_that_reuse_the_source(index):
    first, text, from_block, only_from, not_found = lens(index, READING_WITH_QUESTIONS).segments
    assert isinstance(text, TextSegment)
    assert [s.source for s in (first, from_block, only_from, not_found)] == [READING_HABIT] * 4
    # Only to:: from the article's start; the source's url comes from `url` when there is no source_url.
    assert first.markdown.strip() == (
        "Most of us read the way we scroll: quickly, and without asking what we are looking for. The\n"
        "fix costs nothing, takes a minute, and it starts on the first page."
    )
    # From a block ([[#^ask-first|shown text]]) to a text anchor.
    assert from_block.markdown.strip() == (
        "Before you start a chapter, write down one question you want it to answer. Read to answer it.\n"
        "When you have the answer, stop and write it down in one sentence.\n"
        "\n"
        "## Two questions to ask\n"
        "\n"
        "What is the author trying to convince me of? What would change my mind?"
    )
    # Only from:: to the article's end.
    assert only_from.markdown.strip() == (
        "## Two questions to ask\n\n"
        "What is the author trying to convince me of? What would change my mind? Keep both beside you\n"
        "as you read."
    )
    # A block the article does not have (warned): from the start.
    assert not_found.markdown.strip() == (
        "Most of us read the way we scroll: quickly, and without asking what we are looking for."
    )


def test_a_clip_has_the_transcript_of_exactly_its_span(index):
    video = lens(index, SHOWCASE).segments[2]
    # Words at 0:04.20 are before the clip, at 0:04.50 its first, at 0:30.99 its last, at 0:31.00 after it.
    assert video.transcript == (
        "encoding: taking things in. Then storage: keeping them safe overnight. Then retrieval: "
        "getting them back when you need them. Retrieval is the one you can train. Watch."
    )
    assert (video.title, video.channel) == ("How Memories Form", "Study Lab")


def test_later_clips_reuse_the_source_and_a_clip_without_to_runs_to_the_last_word(index):
    first, later = lens(index, SELF_TESTING).videos
    assert (first.url, first.start_s, first.end_s, first.duration_s) == (STUDY_LAB_VIDEO, 31.0, 44.0, 13)
    assert first.transcript == "Let's see how. Take a blank page and write down everything you remember."
    assert (later.url, later.start_s) == (STUDY_LAB_VIDEO, 44.0)
    assert later.duration_s == 5  # to the last timestamp, 0:48.25
    assert later.transcript == "That is retrieval practice. See you next time."


def test_a_clip_in_hours_without_timestamps_shows_the_whole_transcript_minus_its_skip(index):
    (video,) = lens(index, FORGETTING_CURVE).videos
    assert (video.start_s, video.end_s) == (3723.25, 3900.0)  # 1:02:03.25 to 1:05:00
    assert video.duration_s == 177 - 30  # ceil(176.75), less the 30 s skip:: 1:03:10.5-1:03:40.5
    assert video.url == "https://www.youtube.com/watch?v=Fc8rTz2KwN4"
    assert video.title == "The Forgetting Curve, Lecture 4"
    assert video.transcript.strip() == (
        "Ebbinghaus learned lists of nonsense syllables and tested himself after different delays.\n\n"
        "Most of what he learned was gone within a day, but what was left faded much more slowly, and\n"
        "each review flattened the curve."
    )


def test_a_chat_has_its_instructions_and_its_prompt(index):
    first, second = [s for s in lens(index, PROTECTING_THE_SESSION).segments if isinstance(s, ChatSegment)]
    assert first == ChatSegment("Ask what usually interrupts the learner's sessions.", "What interrupted your last session?")
    assert second.prompt == "Which of those could you remove?"
    curve_chat = lens(index, FORGETTING_CURVE).chat
    assert curve_chat.instructions == "Ask what the learner would forget first from last week, and how a review could save it."


def test_a_roleplay_is_a_chat_whose_instructions_are_the_ai_instructions(index):
    roleplay = lens(index, SELF_TESTING).segments[-1]
    assert isinstance(roleplay, ChatSegment)
    assert roleplay.instructions == (
        "Play a tired student who plans to reread all night. Give in only when the learner\n"
        "explains why testing works, not just that it does."
    )
    assert roleplay.prompt.startswith(
        "Your friend has an exam tomorrow and wants to reread everything. Convince them to test themselves instead."
    )
    assert "Play a tired student" not in roleplay.prompt
    assert lens(index, SELF_TESTING).tutor_instructions == roleplay.instructions


def test_a_choice_question_shows_its_options_but_not_which_is_right(index):
    choice = lens(index, SELF_TESTING).questions["recall-check"]
    assert (choice.style, choice.optional) == ("choice", False)
    assert choice.prompt.startswith("Which of these is retrieval practice?")
    for option in ("Highlighting the chapter", "Answering questions with the book closed", "Reading your notes twice"):
        assert option in choice.prompt
    assert "[x]" not in choice.prompt and "[ ]" not in choice.prompt


@pytest.mark.parametrize(
    "lens_id, question_id, style",
    [(SHOWCASE, "stages-in-your-words", "open"), (DISTRACTION_DIARY, "diary-top-three", "open"),
     (SELF_TESTING, "recall-check", "choice"), (WHAT_DEEP_WORK_IS, "focus-today", "rating"),
     (SPACED_REVIEW, "recall-check", "open")],  # `#### Question` with no style is an open one
)
def test_a_question_keeps_its_id_and_style(index, lens_id, question_id, style):
    assert lens(index, lens_id).questions[question_id].style == style


def test_what_is_for_tutors_and_graders_is_never_shown_to_learners(index):
    shown = "\n".join(each.text for each in index.lenses)
    for hidden in (
        "A full answer names encoding",  # assessment-instructions::
        "Correct when the second option is chosen",
        "Only the second one makes you bring",  # explanation:: (shown after answering, not in the prompt)
        "Point out any sentence that copies",  # feedback-instructions::
        "force-feedback", "hidePrevious",
        "Play a tired student",  # a roleplay's ai-instructions::
    ):
        assert hidden not in shown


def test_a_callout_holds_the_segments_until_its_end(index):
    before, callout, after = lens(index, TWO_MINUTE_RESET).segments
    assert before.markdown.startswith("When you notice you have drifted")
    assert callout == CalloutSegment(
        title="Why two minutes?",
        collapsed=True,
        segments=(
            TextSegment("Two minutes is long enough to let the urge pass and short enough that you come back."),
            TextSegment("If two minutes is not enough, the task may be too big: split it.", optional=True),
        ),
    )
    assert after == TextSegment("Try one reset in your next study session and note what you did in the two minutes.")
    assert len(lens(index, TWO_MINUTE_RESET).all_segments) == 4


def test_segments_tracker_cannot_show_become_notices(index):
    assert lens(index, CORNELL_NOTES).segments[1] == NoticeSegment("widget")
    assert lens(index, NOTES_THAT_WORK).segments[1] == NoticeSegment("interview")
    assert [type(s) for s in lens(index, CORNELL_NOTES).segments] == [TextSegment, NoticeSegment, TextSegment]


# Text as its author means it


def test_block_ids_and_escaped_headings_in_text(index):
    text = lens(index, SELF_TESTING).segments[0].markdown
    assert text.startswith("## Try it now\nClose your notes and write down everything you remember from the last lens.\n")
    assert "\n### Why it works\n" in text
    assert "^try-it" not in text and "\\#" not in text
    assert "^why-gaps" not in lens(index, SPACED_REVIEW).segments[0].markdown
    assert lens(index, SPACED_REVIEW).segments[0].markdown.endswith("each time reaching it makes it stronger.")


def test_a_wikilink_in_text_shows_its_text_and_an_embedded_image_stays_an_image(index):
    text = lens(index, SELF_TESTING).segments[0].markdown
    assert "the last lens\nexplains the three jobs again." in text
    assert "[[" not in text
    assert re.search(r"!\[[^\]]*\]\([^)]*images/recall-grid\.png\)", text), text


def test_comments_and_suggested_edits_resolve_to_the_original_text(index):
    where = lens(index, WHERE_ATTENTION_GOES)
    # In the YAML: a substitution keeps its old text, an addition and a comment go.
    assert where.title == "Where Attention Goes"
    assert where.tldr == "Attention is limited, and it can be trained."
    # In the body: every kind of CriticMarkup, some with a {json}@@ prefix, and an inline comment.
    (text, chat) = where.segments
    assert text.markdown == (
        "You have less attention than you think. Honestly, most study sessions lose a third of their time to small breaks.\n"
        "The first step is to count them."
    )
    # A comment over several paragraphs hid a question section: the lens has none.
    assert where.questions == {}
    assert isinstance(chat, ChatSegment)


def test_a_file_with_crlf_line_ends_reads_like_any_other(index):
    assert b"\r\n" in (GOOD_VAULT / CRLF_FILE).read_bytes(), "the file must really have CRLF line ends"
    single = lens(index, SINGLE_TASKING)
    assert single.tldr == "Do one thing at a time, and finish it."
    assert single.segments == (
        TextSegment(
            "Switching tasks costs more than it seems: each switch leaves part of your mind on the old task.\n\n"
            "Pick one task, close everything else, and work on it until the timer rings."
        ),
        ChatSegment("Help the learner pick the one task for their next focus block.", ""),
    )


# Progress keys survive edits


def test_moving_and_renaming_a_lens_file_keeps_its_id_and_its_place(tmp_path, index):
    vault = copy_vault(tmp_path)
    (vault / "Lenses" / "Focus").mkdir()
    shutil.move(vault / "Lenses" / "The Two-Minute Reset.md", vault / "Lenses" / "Focus" / "Quick Reset.md")
    break_file(vault, "modules/Attention and Focus.md", "[[../Lenses/The Two-Minute Reset]]", "[[../Lenses/Focus/Quick Reset]]")
    moved = load_vault(vault)
    assert moved.errors == ()
    before, after = index.placements_of(TWO_MINUTE_RESET), moved.index.placements_of(TWO_MINUTE_RESET)
    assert [(p.module.id, p.outcome.id, p.optional) for p in after] == [(p.module.id, p.outcome.id, p.optional) for p in before]
    assert moved.index.lenses_by_id[TWO_MINUTE_RESET].name == "quick-reset"
    moved_module = moved.index.modules_by_id[ATTENTION_AND_FOCUS]
    assert outcome_rows(moved_module) == outcome_rows(index.modules_by_id[ATTENTION_AND_FOCUS])


def test_renaming_an_lo_file_and_an_inline_lens_keeps_the_group_and_lens_ids(tmp_path, index):
    vault = copy_vault(tmp_path)
    shutil.move(
        vault / "Learning Outcomes" / "Explain the testing effect.md", vault / "Learning Outcomes" / "Why testing works.md"
    )
    break_file(
        vault, MEMORY_BASICS_FILE,
        "[[../Learning Outcomes/Explain the testing effect]]", "[[../Learning Outcomes/Why testing works]]",
    )
    break_file(vault, MEMORY_BASICS_FILE, "# Lens: Spaced review", "# Lens: Review after a gap")
    renamed = load_vault(vault)
    assert renamed.errors == ()
    group = group_outcome_id(MEMORY_BASICS, [LO_TESTING_EFFECT, LO_RETRIEVAL_SESSION])
    assert [r.lens.id for r in renamed.index.outcomes_by_id[group].lens_refs] == [SELF_TESTING, SPACED_REVIEW]
    assert renamed.index.lenses_by_id[SPACED_REVIEW].title == "Review after a gap"
    assert read_text(GOOD_VAULT, MEMORY_BASICS_FILE).count("# Lens: Spaced review") == 1, "the good vault is untouched"


def test_glossary_terms_whose_notes_are_in_the_vault_are_kept(index):
    lens = index.lenses_by_id[SELF_TESTING]
    assert lens.glossary_terms == ("Retrieval practice",), "the missing note's term is left out, with a warning"


def test_a_timestamps_file_that_gives_times_as_numbers_is_a_warning_and_the_whole_transcript_shows(tmp_path):
    from support.vaults import copy_vault

    vault = copy_vault(tmp_path)
    (timestamps,) = (vault / "video_transcripts").glob("*.timestamps.json")
    timestamps.write_text('[{"text": "encoding", "start": 4.5}]', encoding="utf-8")
    loaded = load_vault(vault)
    assert loaded.errors == ()
    (warning,) = [w for w in loaded.warnings if w.path.endswith(".timestamps.json")]
    assert "cannot be read as a list of {text, start}" in warning.message and warning.line == 1


def test_a_text_anchor_is_found_however_the_article_wraps_its_words(tmp_path):
    """The anchor is written on one line; the article breaks the same words over lines and spaces."""
    from support.vaults import copy_vault

    vault = copy_vault(tmp_path)
    article = vault / "articles" / "The Reading Habit.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("it starts on the first page.", "it starts  on the\n\tfirst page."), encoding="utf-8")
    first = lens(load_vault(vault).index, READING_WITH_QUESTIONS).segments[0]
    assert first.markdown.strip().endswith("a minute, and it starts  on the\n\tfirst page.")


def test_links_resolve_against_the_listed_files_as_they_do_through_the_file_system(tmp_path):
    from support.vaults import copy_vault
    from tracker.content.vault.links import LinkOutsideVault, VaultFiles, find_wikilinks, resolve

    vault = copy_vault(tmp_path)
    files = VaultFiles(vault)
    assert not files.has_symlinks
    checked = 0
    for path in sorted(vault.rglob("*.md")):
        where = path.relative_to(vault).as_posix()
        written = [link.path for link in find_wikilinks(path.read_text(encoding="utf-8"))]
        for link_path in written + ["", "../../outside", "/etc/passwd", "./", "nothing here"]:
            answers = []
            for resolver in (lambda: files.resolve(link_path, where), lambda: resolve(link_path, where, vault)):
                try:
                    answers.append(resolver())
                except LinkOutsideVault as problem:
                    answers.append(str(problem))
            assert answers[0] == answers[1], (where, link_path, answers)
            checked += 1
    assert checked > 100
    (vault / "Lenses" / "elsewhere").symlink_to(tmp_path)
    assert VaultFiles(vault).has_symlinks, "a vault with a symlink resolves through the file system"
