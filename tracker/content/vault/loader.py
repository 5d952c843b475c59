"""Read a Lens course vault (Obsidian Markdown, see README "Content from an Obsidian vault") into a ContentIndex.

Only what a course reaches is read: a vault also holds notes, guides and surveys. Every problem
is collected, not raised, so `content check` can list them all; a course that reaches a file
with an error is left out of the index and the other courses are still served. Warnings name
what could not be shown (a widget, an anchor not found) and leave the course in.

The hierarchy rule (tracker's model is module > learning outcome > lens): consecutive
`# Learning Outcome:` sections form a group, and the lenses after a group, up to the next
group or `# Submodule:`, belong to it. A group of one LO is that LO; a group of several is one
outcome with an id derived from the module's and the LOs' ids; lenses before any LO form an
implicit group of their module or submodule. Derived ids are uuid5, so they are the same on
every load: progress keyed on them survives reloads.
"""
import math
import operator
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid5

import orjson

from ..model import (
    ArticleSegment, ArticleSource, CalloutSegment, ChatSegment, ContentIndex, Course, Lens, LensRef, Meeting, Module,
    ModuleRef, NoticeSegment, Outcome, QuestionSegment, Segment, TextSegment, VideoSegment, flatten,
)
from .links import WIKILINK, LinkOutsideVault, VaultFiles, WikiLink, parse_time, parse_wikilink
from .markup import find_block, strip_block_ids
from .sections import Field, FrontMatter, Section, VaultDocument, VaultError, parse_document, split_front_matter

# Images an embed (`![[diagram.png]]`) may show; served from the vault with these types. SVG is
# left out: opened on its own it is a document that can run script.
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif"}
SEGMENT_KINDS = ("text", "article", "video", "chat", "question", "roleplay", "callout", "end callout")
QUESTION_STYLES = ("open", "choice", "rating")
SLUG_RUN = re.compile(r"[^a-z0-9]+")
YAML_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*:")
SKIP = re.compile(r"^\s*(?P<start>[0-9:.]+)\s*-\s*(?P<end>[0-9:.]+)")
# `:::callout {title="…" tone="…"}` … `:::` is a titled box; `:::hide` … `:::` is not shown.
FENCED_BLOCK = re.compile(r"^:::[ \t]*(?P<kind>callout|hide)\b(?P<attributes>[^\n]*)\n(?P<body>.*?)^:::[ \t]*$\n?", re.M | re.S)
BLOCK_TITLE = re.compile(r'title\s*=\s*"(?P<title>[^"]*)"')
CHECKBOX = re.compile(r"^(?P<indent>\s*[-*+]\s+)\[[ xX]\]\s*")
MEETING_LINK_FIELDS = ("meeting-doc", "survey", "facilitator-survey", "meeting-doc-template")


def group_outcome_id(module_id: UUID, lo_ids: Sequence[UUID]) -> UUID:
    """The id of a group of LOs that the same lenses serve, from the module and the LOs in order."""
    return uuid5(module_id, "learning-outcomes:" + ",".join(str(lo_id) for lo_id in lo_ids))


def implicit_outcome_id(module_id: UUID, submodule_title: str | None) -> UUID:
    """The id of the lenses of a module (or submodule) that come before any LO."""
    return uuid5(module_id, "lenses-before-any-outcome:" + (submodule_title or ""))


def is_vault(root: Path | str) -> bool:
    """A Lens vault has `modules/` and `Lenses/`; tracker's own format has `lenses/` in lower case."""
    root = Path(root)
    names = {path.name for path in root.iterdir()} if root.is_dir() else set()
    return {"modules", "Lenses"} <= names and "lenses" not in names


def slugify(text: str) -> str:
    return SLUG_RUN.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class MissingId:
    """A file (front matter) or a section (an `id::` field under the heading at `line`) that needs an id."""

    path: str
    line: int
    place: str  # "front matter" or "field"


@dataclass(frozen=True)
class VaultLoad:
    """What a vault gave: the index of its courses that have no error, and every problem found."""

    index: ContentIndex
    errors: tuple[VaultError, ...]
    warnings: tuple[VaultError, ...]
    missing_ids: tuple[MissingId, ...] = ()

    @property
    def summary(self) -> str:
        index = self.index
        outcomes = {lo for module in index.modules for outcome in module.outcomes for lo in outcome.member_ids}
        segments = sum(len(lens.all_segments) for lens in index.lenses)
        counts = [
            plural(len(index.courses), "course"), plural(len(index.modules), "module"),
            plural(len(outcomes), "learning outcome"), plural(len(index.lenses), "lens", "lenses"),
            plural(segments, "segment"),
        ]
        problems = [plural(len(self.errors), "error"), plural(len(self.warnings), "warning")]
        return f"{', '.join(counts)} loaded; {', '.join(problems)}"



def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def load_vault(root: Path | str, chat_allowance_s: int = 600) -> VaultLoad:
    """Read every course under `courses/` and what it reaches; never raises for a problem in the content."""
    return VaultReader(Path(root), chat_allowance_s).load()


@dataclass
class Read:
    """A file's result (None when it could not be used) and every file it reached, itself included."""

    value: Any
    reached: frozenset[str]


@dataclass
class LoGroup:
    """Consecutive LO sections of a module and the lenses after them (see the module docstring)."""

    submodule: str | None
    outcomes: list[tuple[UUID, str]] = field(default_factory=list)  # (id, statement)
    lens_refs: list[LensRef] = field(default_factory=list)
    line: int = 1
    lens_sections: int = 0  # lens sections after it, read or not: a lens with an error is not "no lens"
    listed_by_outcomes: list[LensRef] = field(default_factory=list)  # an older LO file's own lenses: after the module's


class VaultReader:
    def __init__(self, root: Path, chat_allowance_s: int):
        self.root = root.absolute()
        self.resolved_root = self.root.resolve()  # once: resolve() is a system call for each part of the path
        self.files = VaultFiles(self.root) if self.root.is_dir() else None
        self.chat_allowance_s = chat_allowance_s
        self.errors: list[VaultError] = []
        self.warnings: list[VaultError] = []
        self.files_with_errors: set[str] = set()
        self.cache: dict[tuple[str, str], Read] = {}
        self.ids: dict[UUID, str] = {}  # which file declared each UUID
        self.lens_names: set[str] = set()
        self.module_slugs: dict[str, str] = {}
        self.embeds: dict[str, set[str]] = {}  # files embedded by each file, as served
        self.missing_ids: list[MissingId] = []  # what `content check --fix-ids` can add
        self.question_lines: dict[tuple[str, str], int] = {}  # (file, question id) → the line of its id::
        self.targets: dict[tuple[str, str], Path | None] = {}  # (folder, link) → the file it reaches
        self.glossary: dict[str, list[str]] = {}  # each file's glossary terms that are in the vault
        self.lens_files: dict[UUID, str] = {}  # the file each lens is written in (a module's, for an inline lens)

    # Problems ------------------------------------------------------------------------------

    def error(self, path: str, line: int, field_name: str | None, message: str) -> None:
        self.errors.append(VaultError(path, line, field_name, message))
        self.files_with_errors.add(path)

    def warn(self, path: str, line: int, field_name: str | None, message: str) -> None:
        self.warnings.append(VaultError(path, line, field_name, message))

    def resolve(self, link_path: str, where: str) -> Path | None:
        """links.resolve, remembered per folder: many files of a folder link the same files."""
        key = (where.rpartition("/")[0], link_path)
        if key not in self.targets:
            target = self.files.resolve(link_path, where)  # raises LinkOutsideVault, not remembered
            self.targets[key] = target
        return self.targets[key]

    def relative(self, path: Path) -> str:
        return path.relative_to(self.resolved_root).as_posix()

    # Courses ---------------------------------------------------------------------------------

    def load(self) -> VaultLoad:
        course_files = sorted(
            path for path in (self.root / "courses").rglob("*.md") if not any(part.startswith(".") for part in path.parts)
        ) if (self.root / "courses").is_dir() else []
        if not course_files:
            self.error("courses", 1, None, "the vault has no course files (courses/*.md)")
        courses, slugs = [], {}
        for path in course_files:
            read = self.read_course(path.resolve())
            course = read.value
            where = self.relative(path.resolve())
            if course is not None and course.slug in slugs:
                self.error(where, 1, "slug", f'"{course.slug}" is already the slug of {slugs[course.slug]}')
            elif course is not None:
                slugs[course.slug] = where
            if course is not None and not (read.reached & self.files_with_errors):
                courses.append((course, read.reached))
        modules = list({ref.module.id: ref.module for course, _ in courses for ref in course.module_refs}.values())
        lenses = list({s.lens.id: s.lens for module in modules for s in module.sections}.values())
        embedded = frozenset(embed for _, reached in courses for path in reached for embed in self.embeds.get(path, ()))
        index = ContentIndex(
            courses=tuple(course for course, _ in courses), modules=tuple(modules), lenses=tuple(lenses),
            chat_allowance_s=self.chat_allowance_s, embedded_files=embedded,
        )
        return VaultLoad(index, tuple(self.errors), tuple(self.warnings), tuple(self.missing_ids))

    def document(self, path: Path) -> tuple[VaultDocument | None, dict[str, int]]:
        """A file's sections, and the line of each top-level key of its front matter."""
        where = self.relative(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as problem:
            self.error(where, 1, None, f"is not UTF-8 text ({problem.reason} at byte {problem.start})")
            return None, {}
        except OSError as problem:
            self.error(where, 1, None, f"cannot be read ({problem.strerror})")
            return None, {}
        document, problems = parse_document(text, where)
        for problem in problems:
            self.error(problem.path, problem.line, problem.field, problem.message)
        key_lines = front_matter_lines(text)
        self.glossary[where] = self.front_matter_links(where, document.front_matter, key_lines)
        return document, key_lines

    def front_matter_links(self, where: str, meta: dict, key_lines: dict[str, int]) -> list[str]:
        """Wikilinks in front matter (topic:, glossary_terms:) stay links; one to a missing file is a warning.

        Returns the glossary terms whose notes are in the vault.
        """
        found = []
        for key, value in meta.items():
            for text in value if isinstance(value, list) else [value]:
                for match in WIKILINK.finditer(text) if isinstance(text, str) else ():
                    link = WikiLink.from_match(match)
                    try:
                        target = self.resolve(link.path, where)
                    except LinkOutsideVault as problem:
                        self.warn(where, key_lines.get(key, 1), key, str(problem))
                        continue
                    if target is None:
                        self.warn(where, key_lines.get(key, 1), key, f"[[{match['inner']}]] is not a file in the vault")
                    elif key == "glossary_terms":
                        found.append(link.shown or target.stem)
        return found

    def plain(self, path: Path) -> FrontMatter | None:
        """An article's or a transcript's front matter and text: its headings are text, not sections."""
        where = self.relative(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as problem:
            self.error(where, 1, None, f"cannot be read as UTF-8 text ({problem})")
            return None
        front_matter, problems = split_front_matter(text, where)
        for problem in problems:
            self.error(problem.path, problem.line, problem.field, problem.message)
        return front_matter

    def cached(self, kind: str, path: Path, read) -> Read:
        key = (kind, str(path))
        if key not in self.cache:
            self.cache[key] = read(path)
        return self.cache[key]

    def read_course(self, path: Path) -> Read:
        where = self.relative(path)
        document, key_lines = self.document(path)
        reached = {where}
        if document is None:
            return Read(None, frozenset(reached))
        meta = document.front_matter
        slug = self.required_text(where, meta, key_lines, "slug")
        title = self.required_text(where, meta, key_lines, "title")
        refs: list[ModuleRef] = []
        meetings: list[Meeting] = []
        for section in document.sections:
            if section.level != 1:
                continue
            if section.type == "module":
                link = self.heading_link(where, section, "module")
                target = link and self.follow(where, section.line, "module", link, required=True)
                if target is None:
                    continue
                module_read = self.cached("module", target, self.read_module)
                reached |= module_read.reached
                optional = self.flag(where, section, "optional")
                if module_read.value is not None:
                    refs.append(ModuleRef(module_read.value, optional))
            elif section.type == "meeting":
                meetings.append(Meeting(len(meetings) + 1, section.title or f"Meeting {len(meetings) + 1}", len(refs)))
                for key in MEETING_LINK_FIELDS:
                    if key in section.fields:
                        self.optional_links(where, section.fields[key])
            else:
                self.warn(where, section.line, None, f'"# {section.heading}" is not a section a course has (Module or Meeting); it is skipped')
        if slug is None or title is None:
            return Read(None, frozenset(reached))
        if not refs and not (reached & self.files_with_errors):
            self.error(where, 1, None, "the course lists no module (# Module: [[../modules/Name]])")
        description = meta.get("description") if isinstance(meta.get("description"), str) else ""
        return Read(Course(slug, title, description or "", tuple(refs), tuple(meetings)), frozenset(reached))

    def optional_links(self, where: str, value: Field) -> None:
        """Links to documents outside the course (meeting notes, surveys): a missing one is a warning."""
        for link in (WikiLink.from_match(m) for m in WIKILINK.finditer(value.value)):
            try:
                found = self.resolve(link.path, where)
            except LinkOutsideVault as problem:
                self.warn(where, value.line, value.key, str(problem))
                continue
            if found is None:
                self.warn(where, value.line, value.key, f"[[{link.path}]] is not a file in the vault")

    # Modules -------------------------------------------------------------------------------

    def read_module(self, path: Path) -> Read:
        where = self.relative(path)
        document, key_lines = self.document(path)
        reached = {where}
        if document is None:
            return Read(None, frozenset(reached))
        meta = document.front_matter
        id_key = "id" if "id" in meta or "contentId" not in meta else "contentId"
        module_id = self.claim_id(where, meta, key_lines, id_key)
        slug = self.required_text(where, meta, key_lines, "slug")
        title = self.required_text(where, meta, key_lines, "title")
        if slug is not None and slug in self.module_slugs:
            self.error(where, key_lines.get("slug", 1), "slug", f'"{slug}" is already the slug of {self.module_slugs[slug]}')
        elif slug is not None:
            self.module_slugs[slug] = where
        groups: list[LoGroup] = []
        submodule: str | None = None
        current: LoGroup | None = None
        inline: Section | None = None  # the inline lens whose segments follow
        inline_segments: list[Section] = []
        linked_lens: Section | None = None  # a linked lens, which must not be followed by segments
        placed: set[UUID] = set()

        def close_inline_lens():
            nonlocal inline, inline_segments, current
            if inline is not None:
                lens = self.inline_lens(where, inline, inline_segments)
                current = self.add_lens(where, inline, lens, current, groups, submodule, placed)
            inline, inline_segments = None, []

        for section in document.sections:
            if section.level > 1:
                if inline is not None:
                    inline_segments.append(section)
                elif linked_lens is not None:
                    source = linked_lens.fields["source"]
                    self.error(where, source.line, "source", "a lens is either linked (source::) or inline (id:: and its segments), not both")
                    linked_lens = None
                else:
                    self.warn(where, section.line, None, f'"{section.heading}" is not inside a lens; it is skipped')
                continue
            close_inline_lens()
            linked_lens = None
            if section.type == "submodule":
                submodule, current = section.title or None, None
            elif section.type == "learning outcome":
                if current is None or current.lens_refs or current.submodule != submodule or not current.outcomes:
                    current = LoGroup(submodule, line=section.line)
                    groups.append(current)
                outcome_read = self.linked(where, section, "learning outcome", self.read_outcome)
                reached |= outcome_read.reached
                if outcome_read.value is not None:
                    outcome_id, statement, own_lenses = outcome_read.value
                    current.outcomes.append((outcome_id, statement))
                    current.listed_by_outcomes.extend(own_lenses)
            elif section.type == "lens":
                if "source" in section.fields and "id" in section.fields:
                    source = section.fields["source"]
                    self.error(where, source.line, "source", "a lens is either linked (source::) or inline (id:: and its segments), not both")
                elif "source" in section.fields:
                    lens_read = self.linked(where, section, "lens", self.read_lens)
                    reached |= lens_read.reached
                    current = self.add_lens(where, section, lens_read.value, current, groups, submodule, placed)
                    linked_lens = section
                else:
                    inline = section
            else:
                self.warn(where, section.line, None, f'"# {section.heading}" is not a section a module has; it is skipped')
        close_inline_lens()
        for group in groups:
            for lens_ref in group.listed_by_outcomes:
                if lens_ref.lens.id not in placed:
                    placed.add(lens_ref.lens.id)
                    group.lens_refs.append(lens_ref)
        outcomes = tuple(filter(None, (self.outcome_of(where, group, module_id, title) for group in groups)))
        if module_id is None or slug is None or title is None:
            return Read(None, frozenset(reached))
        module = Module(module_id, slug, title, document.file_section.preamble, outcomes)
        if not module.required_lens_ids and not (reached & self.files_with_errors):
            self.error(where, 1, None, "the module has no required lens")
        self.check_question_ids(where, module)
        return Read(module, frozenset(reached))

    def add_lens(self, where, section, lens, current, groups, submodule, placed) -> LoGroup | None:
        """Place a lens in the current group (or a new implicit one); return the group lenses now go to."""
        if current is None or current.submodule != submodule:
            current = LoGroup(submodule, line=section.line)
            groups.append(current)
        current.lens_sections += 1
        if lens is None:
            return current
        if lens.id in placed:
            self.warn(where, section.line, None, f'the lens "{lens.title}" is already listed in this module; listed once')
            return current
        placed.add(lens.id)
        optional, hidden = self.flag(where, section, "optional"), self.flag(where, section, "hide")
        if hidden and not optional:
            self.error(where, section.fields["hide"].line, "hide", "hide:: true needs optional:: true: a required lens cannot be hidden")
        current.lens_refs.append(LensRef(lens, optional, hidden))
        return current

    def outcome_of(self, where: str, group: LoGroup, module_id: UUID | None, module_title: str | None) -> Outcome | None:
        if not group.lens_refs:
            if group.outcomes and not group.lens_sections:
                statements = "; ".join(statement for _, statement in group.outcomes)
                self.warn(where, group.line, None, f"no lens serves the learning outcome(s) {statements!r}; they are left out")
            return None
        if module_id is None:
            return None
        ids = tuple(outcome_id for outcome_id, _ in group.outcomes)
        statements = tuple(statement for _, statement in group.outcomes)
        lens_refs = tuple(group.lens_refs)
        if len(ids) == 1:
            return Outcome(ids[0], statements[0], lens_refs, statements, ids, group.submodule)
        title = group.submodule or module_title or ""
        outcome_id = group_outcome_id(module_id, ids) if ids else implicit_outcome_id(module_id, group.submodule)
        return Outcome(outcome_id, title, lens_refs, statements, ids, group.submodule)

    def check_question_ids(self, where: str, module: Module) -> None:
        """Answers are keyed by lens and question, so a question id in two lenses works: authors hear of it."""
        seen: dict[str, Lens] = {}
        for section in module.sections:
            for question_id in section.lens.questions:
                first = seen.setdefault(question_id, section.lens)
                if first is not section.lens:
                    path = self.lens_files.get(section.lens.id, where)
                    line = self.question_lines.get((path, question_id), 1)
                    self.warn(path, line, "id", f'question id "{question_id}" is also used by "{first.title}" in module "{module.title}"; answers are kept per lens')

    # Learning outcomes -----------------------------------------------------------------------

    def read_outcome(self, path: Path) -> Read:
        """(id, statement, lenses an older LO file lists itself); tests and suggested lenses are not imported."""
        where = self.relative(path)
        document, key_lines = self.document(path)
        reached = {where}
        if document is None:
            return Read(None, frozenset(reached))
        meta = document.front_matter
        outcome_id = self.claim_id(where, meta, key_lines, "id")
        statement = meta.get("learning-outcome")
        if not isinstance(statement, str) or not statement.strip():
            self.warn(where, key_lines.get("learning-outcome", 1), "learning-outcome", "is missing; the file name stands in for the statement")
            statement = path.stem
        lens_refs: list[LensRef] = []
        top = ""
        for section in document.sections:
            if section.level == 1:
                top = section.type
            if section.type == "lens" and top != "suggested lenses" and "source" in section.fields:
                lens_read = self.linked(where, section, "lens", self.read_lens)
                reached |= lens_read.reached
                if lens_read.value is not None:
                    optional, hidden = self.flag(where, section, "optional"), self.flag(where, section, "hide")
                    lens_refs.append(LensRef(lens_read.value, optional, hidden and optional))
        if outcome_id is None:
            return Read(None, frozenset(reached))
        return Read((outcome_id, statement.strip(), tuple(lens_refs)), frozenset(reached))

    # Lenses --------------------------------------------------------------------------------

    def read_lens(self, path: Path) -> Read:
        where = self.relative(path)
        document, key_lines = self.document(path)
        reached = {where}
        if document is None:
            return Read(None, frozenset(reached))
        meta = document.front_matter
        lens_id = self.claim_id(where, meta, key_lines, "id")
        segments, segment_files = self.segments(where, document.sections)
        reached |= segment_files
        estimates = self.estimates(where, {key: (meta.get(key), key_lines.get(key, 1)) for key in ESTIMATE_KEYS if key in meta})
        if lens_id is None or segments is None:
            return Read(None, frozenset(reached))
        title = meta.get("title") if isinstance(meta.get("title"), str) and meta["title"].strip() else path.stem
        terms = tuple(dict.fromkeys(self.glossary.get(where, ())))
        lens = self.make_lens(lens_id, path.stem, title.strip(), segments, meta, estimates, terms)
        self.lens_files[lens.id] = where
        return Read(lens, frozenset(reached))

    def inline_lens(self, where: str, section: Section, segment_sections: list[Section]) -> Lens | None:
        """A lens written in the module: `# Lens: Title` with `id::`, its fields, and its segments."""
        fields = section.fields
        if "id" not in fields:
            self.error(where, section.line, "id", "an inline lens needs id:: (a UUID), or source:: [[../Lenses/Name]] to link one")
            self.missing_ids.append(MissingId(where, section.line, "field"))
            return None
        lens_id = self.parse_uuid(where, fields["id"].line, "id", fields["id"].value)
        segments, _ = self.segments(where, segment_sections)
        estimates = self.estimates(where, {key: (fields[key].value, fields[key].line) for key in ESTIMATE_KEYS if key in fields})
        if lens_id is None or segments is None:
            return None
        meta = {key: fields[key].value for key in ("tldr", "summary_for_tutor") if key in fields}
        title = section.title or f"Lens {str(lens_id)[:8]}"
        lens = self.make_lens(lens_id, title, title, segments, meta, estimates)
        self.lens_files[lens.id] = where
        return lens

    def make_lens(self, lens_id: UUID, name_from: str, title: str, segments, meta: dict, estimates: dict, terms=()) -> Lens:
        name = slugify(name_from) or "lens"
        if name in self.lens_names:
            name = f"{name}-{str(lens_id)[:8]}"
        self.lens_names.add(name)
        all_segments = tuple(flatten(segments))
        kind = next((s.kind for s in all_segments if s.kind in ("article", "video", "chat", "question")), "text")
        chat = next((s for s in all_segments if isinstance(s, ChatSegment)), None)
        text = lambda key: meta[key].strip() if isinstance(meta.get(key), str) and meta[key].strip() else None  # noqa: E731
        return Lens(
            id=lens_id, name=name, title=title, type=kind, segments=segments, tldr=text("tldr"),
            tutor_instructions=chat.instructions if chat else None,
            estimate_minutes=estimates.get("duration_minutes"), reading_minutes=estimates.get("reading_minutes"),
            tutor_minutes=estimates.get("tutor_minutes"), min_chat_messages=int(estimates.get("min_chat_messages", 1)),
            summary_for_tutor=text("summary_for_tutor"), glossary_terms=terms,
        )

    def estimates(self, where: str, values: dict[str, tuple[Any, int]]) -> dict[str, float]:
        found = {}
        for key, (value, line) in values.items():
            number = to_number(value)
            whole = key == "min_chat_messages"
            if number is None or number <= 0 or number >= 10_000 or (whole and number != int(number)):
                kind = "a positive whole number" if whole else "a positive number of minutes below 10000"
                self.error(where, line, key, f"must be {kind}, got {value!r}")
            else:
                found[key] = number
        if "duration_minutes" in found and ({"reading_minutes", "tutor_minutes"} & set(found)):
            self.error(where, values["duration_minutes"][1], "duration_minutes", "give duration_minutes or reading_minutes/tutor_minutes, not both")
        return found

    # Segments --------------------------------------------------------------------------------

    def segments(self, where: str, sections: Iterable[Section]) -> tuple[tuple[Segment, ...] | None, set[str]]:
        """A lens's segments in order, callouts holding theirs; None when one of them has an error."""
        reached: set[str] = set()
        context = {"article": None, "video": None}  # the source a later segment without one reuses
        stack: list[tuple[Section, list[Segment]]] = []
        top: list[Segment] = []
        broken = False
        for section in sections:
            into = stack[-1][1] if stack else top
            kind = section.type
            if kind == "callout":
                stack.append((section, []))
                continue
            if kind == "end callout":
                if not stack:
                    self.warn(where, section.line, None, '"End Callout" without a callout before it; skipped')
                    continue
                opened, inner = stack.pop()
                collapse = opened.fields.get("collapse")
                collapsed = collapse is not None and collapse.value.strip().lower() == "closed"
                (stack[-1][1] if stack else top).append(
                    CalloutSegment(opened.title or "More", collapsed, tuple(inner), self.flag(where, opened, "optional"))
                )
                continue
            segment = self.segment(where, section, context, reached)
            if segment is None:
                broken = True
            else:
                into.append(segment)
        while stack:  # a callout never ended runs to the end of the lens
            opened, inner = stack.pop()
            self.warn(where, opened.line, None, f'the callout "{opened.title}" has no "#### End Callout"; it runs to the end of the lens')
            (stack[-1][1] if stack else top).append(CalloutSegment(opened.title or "More", False, tuple(inner)))
        if not top and not broken:
            self.error(where, 1, None, "the lens has no segments (#### Text, #### Article, #### Video, #### Chat, #### Question)")
            return None, reached
        return (None if broken else tuple(top)), reached

    def segment(self, where: str, section: Section, context: dict, reached: set[str]) -> Segment | None:
        fields, kind = section.fields, section.type
        optional = self.flag(where, section, "optional")
        if kind == "text":
            content = self.required_field(where, section, "content")
            return None if content is None else TextSegment(self.content_text(where, content), optional)
        if kind == "article":
            source = self.segment_source(where, section, "article", context, self.read_article)
            if source is None:
                return None
            reached.add(source.value[0])
            return self.excerpt(where, section, source.value, optional)
        if kind == "video":
            source = self.segment_source(where, section, "video", context, self.read_transcript)
            if source is None:
                return None
            reached.add(source.value[0])
            return self.clip(where, section, source.value, optional)
        if kind == "chat":
            instructions = self.required_field(where, section, "instructions")
            prompt = fields["content"].value if "content" in fields else ""
            hide_from_tutor = self.flag(where, section, "hidePreviousContentFromTutor")
            self.flag(where, section, "hidePreviousContentFromUser")  # checked; a lens page always shows every segment
            if instructions is None:
                return None
            return ChatSegment(instructions.value, self.content_text(where, prompt), optional, hide_from_tutor)
        if kind == "roleplay":
            instructions = self.required_field(where, section, "ai-instructions")
            opening = fields["opening-message"].value if "opening-message" in fields else ""
            prompt = "\n\n".join(filter(None, (fields["content"].value if "content" in fields else "", opening)))
            return None if instructions is None else ChatSegment(instructions.value, self.content_text(where, prompt), optional)
        if kind == "question":
            question_id, content = self.required_field(where, section, "id"), self.required_field(where, section, "content")
            if question_id is None:
                self.missing_ids.append(MissingId(where, section.line, "field"))
            if question_id is None or content is None:
                return None
            self.question_lines.setdefault((where, question_id.value.strip()), question_id.line)
            style = section.title.lower() if section.title.lower() in QUESTION_STYLES else "open"
            prompt = self.content_text(where, content)
            if "options" in fields:  # shown without the marks of the correct options, which are for graders
                options = "\n".join(CHECKBOX.sub(r"\g<indent>", line) for line in fields["options"].value.split("\n"))
                prompt = f"{prompt}\n\n{options}"
            return QuestionSegment(question_id.value.strip(), prompt, style, optional)
        what = section.type or section.heading
        self.warn(where, section.line, None, f'"#### {section.heading}" segments cannot be shown here; learners see a notice in its place')
        return NoticeSegment(what, optional)

    def segment_source(self, where: str, section: Section, kind: str, context: dict, read) -> Read | None:
        """The segment's source::, or the previous segment of its kind's; None (with an error) when there is none."""
        if "source" not in section.fields:
            if context[kind] is None:
                self.error(where, section.line, "source", f"the first {kind} segment of a lens needs source:: [[…]]")
            return context[kind]
        source = section.fields["source"]
        link = self.field_link(where, source)
        target = link and self.follow(where, source.line, "source", link, required=True)
        if target is None:
            return None
        result = self.cached(kind, target, read)
        if result.value is None:
            return None
        context[kind] = result
        return result

    def read_article(self, path: Path) -> Read:
        where = self.relative(path)
        document = self.plain(path)
        if document is None:
            return Read(None, frozenset({where}))
        meta = document.data
        title = meta.get("title") if isinstance(meta.get("title"), str) else path.stem
        source = ArticleSource(
            title=title, author=author_text(meta.get("author")), url=text_or_none(meta.get("source_url") or meta.get("url")),
            published=text_or_none(meta.get("date") or meta.get("published")),
        )
        return Read((where, source, document.body.strip("\n")), frozenset({where}))

    def excerpt(self, where: str, section: Section, source: tuple, optional: bool) -> ArticleSegment:
        article_path, article, body = source
        start, end = 0, len(body)
        if "from" in section.fields:
            found = self.anchor(where, section.fields["from"], article_path, body, 0)
            if found:
                start = found[0]
        if "to" in section.fields:
            found = self.anchor(where, section.fields["to"], article_path, body, start)
            if found:
                end = found[1]
        excerpt = strip_block_ids(body[start:end]).strip()
        return ArticleSegment(self.content_text(article_path, excerpt), article, optional)

    def anchor(self, where: str, value: Field, article_path: str, body: str, after: int) -> tuple[int, int] | None:
        """Where an excerpt's `from::`/`to::` is in the article: a block `[[#^id]]`, or text as written."""
        written = value.value.strip()
        link = WIKILINK.fullmatch(written)
        if link and WikiLink.from_match(link).block_id:
            block_id = WikiLink.from_match(link).block_id
            block = find_block(body, block_id)
            if block is not None:
                return block.start, block.end
            missing = f"the article has no block ^{block_id}"
        else:
            # The words as written, with any whitespace between them (an anchor may wrap where the article does not).
            # A pattern per anchor: its first word is a literal prefix, which re finds without trying every offset.
            found = re.compile(r"\s+".join(map(re.escape, written.split()))).search(body, after) if written else None
            if found:
                return found.span()
            missing = f'the article has no text "{written}"'
        runs = "from its start" if value.key == "from" else "to its end"
        self.warn(where, value.line, value.key, f"{missing}; the excerpt runs {runs}")
        return None

    def read_transcript(self, path: Path) -> Read:
        where = self.relative(path)
        document = self.plain(path)
        if document is None:
            return Read(None, frozenset({where}))
        meta = document.data
        url = text_or_none(meta.get("url"))
        if url is None:
            self.error(where, 1, "url", "a video transcript needs the video's url in its front matter")
            return Read(None, frozenset({where}))
        words = self.timestamps(path.with_name(path.stem + ".timestamps.json"))
        body = document.body.strip()
        info = {"url": url, "title": text_or_none(meta.get("title")), "channel": text_or_none(meta.get("channel")), "words": words, "body": body}
        return Read((where, info), frozenset({where}))

    def timestamps(self, path: Path) -> tuple[list[float], list[str]] | None:
        """The start of each word and the words, in time order, from a transcript's `.timestamps.json`; None without one.

        Kept as two lists (times to bisect, words to join): a long talk has tens of thousands of words.
        """
        if not path.is_file():
            return None
        where = self.relative(path.resolve())
        try:
            items = orjson.loads(path.read_bytes())  # a tenth of json's time on a long talk's word list
            starts = [str(item["start"]) for item in items]  # a number is refused by parse_time as any other bad time
            seconds = {start: parse_time(start) for start in set(starts)}  # the words of a line share its start
            times, words = [seconds[start] for start in starts], [str(item["text"]) for item in items]
        except (ValueError, TypeError, KeyError, OSError) as problem:
            self.warn(where, 1, None, f"cannot be read as a list of {{text, start}} ({problem}); the whole transcript is shown")
            return None
        if not all(map(operator.le, times, times[1:])):
            order = sorted(range(len(times)), key=times.__getitem__)
            times, words = [times[i] for i in order], [words[i] for i in order]
        return times, words

    def clip(self, where: str, section: Section, source: tuple, optional: bool) -> VideoSegment | None:
        transcript_path, info = source
        times = {}
        for key in ("from", "to"):
            if key in section.fields:
                try:
                    times[key] = parse_time(section.fields[key].value)
                except ValueError as problem:
                    self.error(where, section.fields[key].line, key, str(problem))
                    return None
        start, end = times.get("from"), times.get("to")
        if start is not None and end is not None and end <= start:
            self.error(where, section.fields["to"].line, "to", f"the clip ends ({section.fields['to'].value}) before it starts ({section.fields['from'].value})")
            return None
        skipped = self.skipped_s(where, section.fields.get("skip"))
        if info["words"] is not None:
            times, words = info["words"]
            first, last_word = bisect_left(times, start or 0), len(words) if end is None else bisect_left(times, end)
            transcript = " ".join(words[first:last_word])
            last = times[-1] if times else None
        else:
            transcript, last = info["body"], None
        until = end if end is not None else last
        duration = max(0, math.ceil(until - (start or 0) - skipped)) if until is not None else None
        return VideoSegment(
            url=info["url"], transcript=transcript, duration_s=duration or None, title=info["title"], channel=info["channel"],
            start_s=start, end_s=end, optional=optional,
        )

    def skipped_s(self, where: str, value: Field | None) -> float:
        """The length of the clip's `skip::` spans (`M:SS.s-M:SS.s "why"`, one a line)."""
        total = 0.0
        for line in (value.value.split("\n") if value else ()):
            match = SKIP.match(line)
            try:
                start, end = (parse_time(match["start"]), parse_time(match["end"])) if match else (None, None)
            except ValueError:
                start = end = None
            if start is None or end <= start:
                self.warn(where, value.line, "skip", f'"{line.strip()}" is not a span such as 1:05-1:20 "why"; not skipped')
                continue
            total += end - start
        return total

    # Text ------------------------------------------------------------------------------------

    def content_text(self, where: str, value: Field | str) -> str:
        """Markdown as learners see it: block ids gone, embedded images served, other wikilinks as their text."""
        text = value.value if isinstance(value, Field) else value

        def replace(match: re.Match[str]) -> str:
            link = WikiLink.from_match(match)
            shown = link.shown or (link.anchor.lstrip("^") if not link.path and link.anchor else Path(link.path).stem)
            if not link.embed:
                return shown
            try:
                target = self.resolve(link.path, where) if link.path else None
            except LinkOutsideVault as problem:
                self.warn(where, 1, None, str(problem))
                return shown
            if target is None or target.suffix.lower() not in IMAGE_TYPES:
                self.warn(where, 1, None, f"![[{match['inner']}]] is not an image in the vault; its name is shown instead")
                return shown
            served = self.relative(target)
            self.embeds.setdefault(where, set()).add(served)
            # A root-relative address: the loader has no Flask, and the media blueprint serves /media/<path>.
            return f"![{link.shown or target.stem}](/media/{quote(served)})"

        text = strip_block_ids(text)
        # The checks first: most text has neither, and a regex scan of every lens and excerpt is not free.
        if ":::" in text:
            text = FENCED_BLOCK.sub(boxed_or_hidden, text)
        return (WIKILINK.sub(replace, text) if "[[" in text else text).strip()

    # Fields and links ------------------------------------------------------------------------

    def linked(self, where: str, section: Section, kind: str, read) -> Read:
        """The file a section's `source::` links to, read (and cached) by `read`."""
        source = section.fields.get("source")
        if source is None:
            self.error(where, section.line, "source", f"a {kind} section needs source:: [[…]]")
            return Read(None, frozenset())
        link = self.field_link(where, source)
        target = link and self.follow(where, source.line, "source", link, required=True)
        if target is None:
            return Read(None, frozenset())
        return self.cached(kind, target, read)

    def field_link(self, where: str, value: Field) -> WikiLink | None:
        try:
            return parse_wikilink(value.value)
        except ValueError as problem:
            self.error(where, value.line, value.key, str(problem))
            return None

    def heading_link(self, where: str, section: Section, field_name: str) -> WikiLink | None:
        try:
            return parse_wikilink(section.title)
        except ValueError as problem:
            self.error(where, section.line, field_name, str(problem))
            return None

    def follow(self, where: str, line: int, field_name: str, link: WikiLink, *, required: bool) -> Path | None:
        written = f"[[{link.path}{'#' + link.anchor if link.anchor else ''}{'|' + link.shown if link.shown else ''}]]"
        try:
            target = self.resolve(link.path, where)
        except LinkOutsideVault as problem:
            self.error(where, line, field_name, f"{written}: {problem}")
            return None
        if target is None and required:
            self.error(where, line, field_name, f"{written} is not a file in the vault (looked for {link.path} and {link.path}.md next to {where})")
        return target

    def flag(self, where: str, section: Section, key: str) -> bool:
        value = section.fields.get(key)
        if value is None:
            return False
        written = value.value.strip().lower()
        if written not in ("true", "false"):
            self.error(where, value.line, key, f"must be true or false, got {value.value.strip()!r}")
            return False
        return written == "true"

    def required_field(self, where: str, section: Section, key: str) -> Field | None:
        value = section.fields.get(key)
        if value is None or not value.value.strip():
            self.error(where, section.line, key, f'"{section.heading}" needs {key}::')
            return None
        return value

    def required_text(self, where: str, meta: dict, key_lines: dict[str, int], key: str) -> str | None:
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            self.error(where, key_lines.get(key, 1), key, "is required in the front matter")
            return None
        return value.strip()

    def claim_id(self, where: str, meta: dict, key_lines: dict[str, int], key: str) -> UUID | None:
        if meta.get(key) is None:
            self.error(where, 1, "id", "is required in the front matter (a UUID: `flask --app wsgi tracker content new-id` prints one)")
            self.missing_ids.append(MissingId(where, 1, "front matter"))
            return None
        return self.parse_uuid(where, key_lines.get(key, 1), "id", meta[key])

    def parse_uuid(self, where: str, line: int, field_name: str, value) -> UUID | None:
        try:
            parsed = UUID(str(value).strip())
        except ValueError:
            self.error(where, line, field_name, f"{value!r} is not a UUID")
            return None
        if parsed in self.ids and self.ids[parsed] != where:
            self.error(where, line, field_name, f"UUID {parsed} is already the id of {self.ids[parsed]}")
            return None
        self.ids[parsed] = where
        return parsed


def boxed_or_hidden(match: re.Match[str]) -> str:
    """A `:::callout` block as a quote under its title (content is Markdown without HTML); `:::hide` as nothing."""
    if match["kind"] == "hide":
        return ""
    title = BLOCK_TITLE.search(match["attributes"])
    lines = ([f"**{title['title']}**", ""] if title and title["title"] else []) + match["body"].rstrip("\n").split("\n")
    return "\n".join(f"> {line}" if line else ">" for line in lines) + "\n"


ESTIMATE_KEYS = ("reading_minutes", "tutor_minutes", "duration_minutes", "min_chat_messages")


def to_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def text_or_none(value) -> str | None:
    return str(value).strip() or None if value is not None and not isinstance(value, (dict, list)) else None


def author_text(value) -> str | None:
    if isinstance(value, list):
        return ", ".join(str(item).strip() for item in value if str(item).strip()) or None
    return text_or_none(value)


def front_matter_lines(text: str) -> dict[str, int]:
    """The line of each top-level key of a file's YAML front matter, for errors that name it."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return {}
    found: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in ("---", "..."):
            break
        if match := YAML_KEY.match(line):
            found.setdefault(match["key"], number)
    return found

