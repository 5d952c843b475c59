"""What the content tests share: the demo content as written in tracker/demo_content/, and edits to a copy of it.

None of the content tests needs a database: apps are built on an in-memory SQLite URL and only
their content store and CLI are used (`make_app`).
"""
import itertools
import os
import re
import time
from pathlib import Path

import frontmatter

from tracker import create_app
from tracker.config import DEMO_CONTENT_DIR

# --- The demo content, as written in tracker/demo_content/ -----------------------------------

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


# --- Editing a copy of the content -------------------------------------------------------------

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
