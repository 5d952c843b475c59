"""The immutable content index: courses, modules, learning outcomes (LOs) and lenses."""
import re
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import ClassVar, Iterator, Mapping
from urllib.parse import urlsplit
from uuid import UUID

LENS_TYPES = ("article", "video", "chat")  # the types of tracker's own lens files
# A video lens whose video_url ends in one of these plays in the page's own <video> or <audio>.
VIDEO_FILE_TYPES = (".mp4", ".webm", ".ogv", ".mov", ".m4v")
AUDIO_FILE_TYPES = (".mp3", ".ogg", ".oga", ".opus", ".m4a", ".wav", ".flac")

YOUTUBE_ID = re.compile(r"(?:youtube\.com/(?:watch\?(?:.*&)?v=|embed/)|youtu\.be/)([A-Za-z0-9_-]{11})")


def youtube_id(url: str | None) -> str | None:
    match = YOUTUBE_ID.search(url or "")
    return match.group(1) if match else None


def media_kind_of(url: str | None, media_file: str | None) -> str:
    """How a video plays: "youtube" (embedded), "video" or "audio" (the page's own player), "link"."""
    # A file of the content directory is a path, not a URL: "clip#2.webm" has no fragment.
    path = (media_file or urlsplit(url or "").path).lower()
    if path.endswith(VIDEO_FILE_TYPES):
        return "video"
    if path.endswith(AUDIO_FILE_TYPES):
        return "audio"
    return "youtube" if youtube_id(url) else "link"


# Segments: what a lens is made of, in the order the learner meets them. A lens of tracker's own
# format is one segment; a vault lens lists its segments as `#### Text`, `#### Article`, … sections.


@dataclass(frozen=True)
class TextSegment:
    markdown: str
    optional: bool = False
    kind: ClassVar[str] = "text"


@dataclass(frozen=True)
class ArticleSource:
    """Where an excerpt comes from, as the article file's front matter gives it."""

    title: str
    author: str | None = None
    url: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class ArticleSegment:
    """A passage of an article; `source` is None when the lens itself is the article (tracker's format)."""

    markdown: str
    source: ArticleSource | None = None
    optional: bool = False
    kind: ClassVar[str] = "article"


@dataclass(frozen=True)
class VideoSegment:
    """A video, or the clip of it from `start_s` to `end_s`, with the transcript of what is played."""

    url: str
    transcript: str  # Markdown; for tracker's format, the lens's whole text
    duration_s: int | None  # how long watching takes: the clip's length, or the video's
    title: str | None = None
    channel: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    media_file: str | None = None  # a url that is a file in the content directory: its path there
    optional: bool = False
    kind: ClassVar[str] = "video"

    @cached_property
    def media_kind(self) -> str:
        return media_kind_of(self.url, self.media_file)


@dataclass(frozen=True)
class ChatSegment:
    """A tutor chat: the chat panel appears here, the tutor follows `instructions`."""

    instructions: str
    prompt: str  # Markdown shown to the learner above the panel
    optional: bool = False
    hide_previous_from_tutor: bool = False  # the tutor gets none of what the learner read before the chat
    kind: ClassVar[str] = "chat"


@dataclass(frozen=True)
class QuestionSegment:
    """A prompt with a free-text answer box; answers are stored per learner, lens and question id."""

    id: str
    prompt: str
    style: str = "open"  # what the author called it: open, choice or rating; all are answered in text here
    optional: bool = False
    kind: ClassVar[str] = "question"


@dataclass(frozen=True)
class CalloutSegment:
    """A box of segments the learner can open and close."""

    title: str
    collapsed: bool
    segments: tuple["Segment", ...]
    optional: bool = False
    kind: ClassVar[str] = "callout"


@dataclass(frozen=True)
class NoticeSegment:
    """In place of a segment tracker cannot show (a widget, an interview): it says so."""

    what: str
    optional: bool = False
    kind: ClassVar[str] = "notice"


Segment = TextSegment | ArticleSegment | VideoSegment | ChatSegment | QuestionSegment | CalloutSegment | NoticeSegment


def flatten(segments: tuple[Segment, ...]) -> Iterator[Segment]:
    """Every segment in order, the ones inside callouts included (the callouts themselves are not)."""
    for segment in segments:
        if isinstance(segment, CalloutSegment):
            yield from flatten(segment.segments)
        else:
            yield segment


@dataclass(frozen=True)
class Lens:
    id: UUID
    name: str  # how modules refer to it: tracker's format, the file name; a vault, its path without .md
    title: str
    type: str  # what the lens mostly is, for labels: article, video, chat, text or question
    segments: tuple[Segment, ...]
    tldr: str | None = None
    tutor_instructions: str | None = None  # how the tutor helps with this lens; a chat's, for a lens with one
    # The author's estimates, which win over the computed ones: the whole lens, or its reading and tutor parts.
    estimate_minutes: float | None = None
    reading_minutes: float | None = None
    tutor_minutes: float | None = None
    min_chat_messages: int = 1  # a required lens with a chat completes after this many messages to the tutor
    summary_for_tutor: str | None = None  # context for the tutor, never shown to learners
    glossary_terms: tuple[str, ...] = ()  # the terms of the vault's glossary the lens names

    @cached_property
    def all_segments(self) -> tuple[Segment, ...]:
        return tuple(flatten(self.segments))

    @cached_property
    def chat(self) -> ChatSegment | None:
        """The lens's first chat segment, where its chat panel is."""
        return next((s for s in self.all_segments if isinstance(s, ChatSegment)), None)

    @property
    def has_chat(self) -> bool:
        return self.chat is not None

    @cached_property
    def videos(self) -> tuple[VideoSegment, ...]:
        return tuple(s for s in self.all_segments if isinstance(s, VideoSegment))

    @cached_property
    def questions(self) -> Mapping[str, QuestionSegment]:
        return MappingProxyType({s.id: s for s in self.all_segments if isinstance(s, QuestionSegment)})

    @cached_property
    def kinds(self) -> str:
        """What the lens holds, for its page: "article", or "text, article, video and chat"."""
        kinds = list(dict.fromkeys(s.kind for s in self.all_segments if s.kind != "notice")) or [self.type]
        return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"

    @cached_property
    def text(self) -> str:
        """What the lens says, as Markdown: its texts, excerpts, transcripts, chat prompts and questions."""
        return "\n\n".join(filter(None, (segment_text(s) for s in self.all_segments)))


def segment_text(segment: Segment) -> str:
    if isinstance(segment, (TextSegment, ArticleSegment)):
        return segment.markdown
    if isinstance(segment, VideoSegment):
        return segment.transcript
    if isinstance(segment, (ChatSegment, QuestionSegment)):
        return segment.prompt
    return ""


@dataclass(frozen=True)
class LensRef:
    lens: Lens
    optional: bool
    hidden: bool = False  # optional and not listed to learners (a vault's `hide:: true`)


@dataclass(frozen=True)
class Outcome:
    """A learning outcome, or a group of them that the same lenses serve (see the vault loader).

    `statements` are what the learner will be able to do; a group lists those of the LOs in it,
    and `member_ids` are their ids (a single LO: its own).
    """

    id: UUID
    title: str
    lens_refs: tuple[LensRef, ...]
    statements: tuple[str, ...] = ()
    member_ids: tuple[UUID, ...] = ()
    submodule: str | None = None

    @cached_property
    def required_lens_ids(self) -> frozenset[UUID]:
        return frozenset(ref.lens.id for ref in self.lens_refs if not ref.optional)

    @property
    def grouped(self) -> tuple[tuple[UUID, str], ...]:
        """(id, statement) of each LO this outcome groups, which complete with it; () for a single LO."""
        return tuple(zip(self.member_ids, self.statements)) if len(self.member_ids) > 1 else ()


@dataclass(frozen=True)
class Section:
    """One step of a module, in learning order."""

    lens: Lens
    outcome: Outcome
    optional: bool
    hidden: bool = False


@dataclass(frozen=True)
class Module:
    id: UUID
    slug: str
    title: str
    introduction: str
    outcomes: tuple[Outcome, ...]

    @cached_property
    def sections(self) -> tuple[Section, ...]:
        return tuple(
            Section(ref.lens, outcome, ref.optional, ref.hidden) for outcome in self.outcomes for ref in outcome.lens_refs
        )

    @cached_property
    def required_lens_ids(self) -> frozenset[UUID]:
        return frozenset().union(*(outcome.required_lens_ids for outcome in self.outcomes))

    def section_for(self, lens_id: UUID) -> Section | None:
        return next((s for s in self.sections if s.lens.id == lens_id), None)

    def section_named(self, name_or_id: str) -> Section | None:
        """The section whose lens has this file name or this UUID (as text)."""
        return next((s for s in self.sections if name_or_id in (s.lens.name, str(s.lens.id))), None)


@dataclass(frozen=True)
class Placement:
    """Where a lens sits: which module, which LO of it, and whether it is optional there."""

    module: Module
    outcome: Outcome
    optional: bool


@dataclass(frozen=True)
class ModuleRef:
    module: Module
    optional: bool


@dataclass(frozen=True)
class Meeting:
    """A meeting of a course's cohort; the modules listed before it (and after the one before) prepare for it."""

    number: int  # 1, 2, … in course order
    name: str
    after_modules: int  # how many of the course's module_refs come before it


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    description: str
    module_refs: tuple[ModuleRef, ...]
    meetings: tuple[Meeting, ...] = ()

    def meeting_before(self, position: int) -> Meeting | None:
        """The meeting that the module at this position of module_refs is due by, if any."""
        return next((m for m in self.meetings if m.after_modules > position), None)


@dataclass(frozen=True)
class ContentIndex:
    courses: tuple[Course, ...]
    modules: tuple[Module, ...]
    lenses: tuple[Lens, ...]
    chat_allowance_s: int = 600  # the time estimate for a chat lens, on top of reading its prompt
    embedded_files: frozenset[str] = frozenset()  # images the content embeds, served from the content directory
    courses_by_slug: Mapping[str, Course] = field(init=False)
    modules_by_slug: Mapping[str, Module] = field(init=False)
    modules_by_id: Mapping[UUID, Module] = field(init=False)
    lenses_by_id: Mapping[UUID, Lens] = field(init=False)
    lenses_by_name: Mapping[str, Lens] = field(init=False)
    outcomes_by_id: Mapping[UUID, Outcome] = field(init=False)
    placements_by_lens_id: Mapping[UUID, tuple[Placement, ...]] = field(init=False)
    media_files: frozenset[str] = field(init=False)  # files of the content directory that lenses play
    media_origins: tuple[str, ...] = field(init=False)  # other sites that lenses play media files from

    def __post_init__(self):
        placements: dict[UUID, list[Placement]] = {}
        for module in self.modules:
            for section in module.sections:
                placements.setdefault(section.lens.id, []).append(
                    Placement(module, section.outcome, section.optional)
                )
        frozen = {
            "courses_by_slug": {c.slug: c for c in self.courses},
            "modules_by_slug": {m.slug: m for m in self.modules},
            "modules_by_id": {m.id: m for m in self.modules},
            "lenses_by_id": {lens.id: lens for lens in self.lenses},
            "lenses_by_name": {lens.name: lens for lens in self.lenses},
            "outcomes_by_id": {o.id: o for m in self.modules for o in m.outcomes},
            "placements_by_lens_id": {k: tuple(v) for k, v in placements.items()},
        }
        for name, mapping in frozen.items():
            object.__setattr__(self, name, MappingProxyType(mapping))
        played = [video for lens in self.lenses for video in lens.videos if video.media_kind in ("video", "audio")]
        object.__setattr__(self, "media_files", frozenset(video.media_file for video in played if video.media_file))
        origins = {f"{url.scheme}://{url.netloc}" for url in (urlsplit(video.url) for video in played if not video.media_file)}
        object.__setattr__(self, "media_origins", tuple(sorted(origins)))

    def placements_of(self, lens_id: UUID) -> tuple[Placement, ...]:
        return self.placements_by_lens_id.get(lens_id, ())
