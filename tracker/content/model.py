"""The immutable content index: courses, modules, learning outcomes (LOs) and lenses."""
import re
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Mapping
from urllib.parse import urlsplit
from uuid import UUID

LENS_TYPES = ("article", "video", "chat")
# A video lens whose video_url ends in one of these plays in the page's own <video> or <audio>.
VIDEO_FILE_TYPES = (".mp4", ".webm", ".ogv", ".mov", ".m4v")
AUDIO_FILE_TYPES = (".mp3", ".ogg", ".oga", ".opus", ".m4a", ".wav", ".flac")

YOUTUBE_ID = re.compile(r"(?:youtube\.com/(?:watch\?(?:.*&)?v=|embed/)|youtu\.be/)([A-Za-z0-9_-]{11})")


def youtube_id(url: str | None) -> str | None:
    match = YOUTUBE_ID.search(url or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class Lens:
    id: UUID
    name: str  # file name without .md; how modules refer to it
    title: str
    type: str
    body: str
    tldr: str | None = None
    video_url: str | None = None
    duration_s: int | None = None
    tutor_instructions: str | None = None
    estimate_minutes: float | None = None  # the author's estimate, which wins over the computed one
    media_file: str | None = None  # a video_url that is a file in the content directory: its path there

    @cached_property
    def media_kind(self) -> str | None:
        """How a video lens plays: "youtube" (embedded), "video" or "audio" (the page's own player), "link"."""
        if self.type != "video":
            return None
        # A file of the content directory is a path, not a URL: "clip#2.webm" has no fragment.
        path = (self.media_file or urlsplit(self.video_url or "").path).lower()
        if path.endswith(VIDEO_FILE_TYPES):
            return "video"
        if path.endswith(AUDIO_FILE_TYPES):
            return "audio"
        return "youtube" if youtube_id(self.video_url) else "link"


@dataclass(frozen=True)
class LensRef:
    lens: Lens
    optional: bool


@dataclass(frozen=True)
class Outcome:
    id: UUID
    title: str
    lens_refs: tuple[LensRef, ...]

    @cached_property
    def required_lens_ids(self) -> frozenset[UUID]:
        return frozenset(ref.lens.id for ref in self.lens_refs if not ref.optional)


@dataclass(frozen=True)
class Section:
    """One step of a module, in learning order."""

    lens: Lens
    outcome: Outcome
    optional: bool


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
            Section(ref.lens, outcome, ref.optional) for outcome in self.outcomes for ref in outcome.lens_refs
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
class Course:
    slug: str
    title: str
    description: str
    module_refs: tuple[ModuleRef, ...]


@dataclass(frozen=True)
class ContentIndex:
    courses: tuple[Course, ...]
    modules: tuple[Module, ...]
    lenses: tuple[Lens, ...]
    chat_allowance_s: int = 600  # the time estimate for a chat lens, on top of reading its prompt
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
        played = [lens for lens in self.lenses if lens.media_kind in ("video", "audio")]
        object.__setattr__(self, "media_files", frozenset(lens.media_file for lens in played if lens.media_file))
        origins = {f"{url.scheme}://{url.netloc}" for url in (urlsplit(lens.video_url) for lens in played if not lens.media_file)}
        object.__setattr__(self, "media_origins", tuple(sorted(origins)))

    def placements_of(self, lens_id: UUID) -> tuple[Placement, ...]:
        return self.placements_by_lens_id.get(lens_id, ())
