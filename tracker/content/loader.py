"""Read a content directory of Markdown files with YAML front matter into a ContentIndex.

Everything is validated before anything is built, and the first problem is reported
with the file and the field it is in, so an author can fix it without reading code.
"""
import re
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import frontmatter
import yaml

from .model import (
    AUDIO_FILE_TYPES, LENS_TYPES, VIDEO_FILE_TYPES, ArticleSegment, ChatSegment, ContentIndex, Course, Lens, LensRef, Meeting,
    Module, ModuleRef, Outcome, VideoSegment,
)

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# The host of a web address, with no user name, password or anything else that is not part of an
# origin: a media file's origin goes into the Content-Security-Policy header as it is written.
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
WEB_HOST = re.compile(rf"^(\[[0-9A-Fa-f:.]+\]|{LABEL}(\.{LABEL})*)(:[0-9]{{1,5}})?$")


class ContentError(ValueError):
    """Invalid content; the message names the file and the field."""

    def __init__(self, path: Path | str, field: str, problem: str):
        self.path, self.field, self.problem = str(path), field, problem
        super().__init__(f"{path}: {field}: {problem}")


def load_content(directory: Path | str, chat_allowance_s: int = 600) -> ContentIndex:
    """Load and validate every course, module and lens under `directory`."""
    root = Path(directory)
    if not root.is_dir():
        raise ContentError(root, "directory", "does not exist or is not a directory")
    ids = UuidRegistry()
    lenses = {path.stem: read_lens(root, path, ids) for path in markdown_files(root, "lenses")}
    module_files = markdown_files(root, "modules")
    modules = [read_module(root, path, lenses, ids) for path in module_files]
    modules_by_slug = unique_by_slug(root, module_files, modules)
    course_files = markdown_files(root, "courses")
    courses = [read_course(root, path, modules_by_slug) for path in course_files]
    unique_by_slug(root, course_files, courses)
    return ContentIndex(
        courses=tuple(courses), modules=tuple(modules), lenses=tuple(lenses.values()), chat_allowance_s=chat_allowance_s
    )


def markdown_files(root: Path, kind: str) -> list[Path]:
    # Dotfiles are editor leftovers (Emacs lock links like .#name.md), not content.
    return sorted(path for path in (root / kind).glob("*.md") if not path.name.startswith("."))


def read_document(root: Path, path: Path) -> tuple[dict, str]:
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as error:
        raise ContentError(path.relative_to(root), "front matter", f"cannot be parsed ({error})") from None
    return dict(post.metadata), post.content.strip()


class Fields:
    """Typed access to one document's front matter, with errors that name the field."""

    def __init__(self, where: Path, data, prefix: str = ""):
        self.where, self.prefix = where, prefix
        if not isinstance(data, dict):
            raise ContentError(where, prefix.rstrip(".") or "front matter", "must be a mapping")
        self.data = data

    def error(self, name: str, problem: str) -> ContentError:
        return ContentError(self.where, self.prefix + name, problem)

    def text(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self.data.get(name, default)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if required:
                raise self.error(name, "is required")
            return default
        if not isinstance(value, str):
            raise self.error(name, f"must be text, got {value!r}")
        return value

    def uuid(self, name: str) -> UUID:
        value = self.data.get(name)
        if value is None:
            raise self.error(name, "is required (a UUID)")
        try:
            return UUID(str(value))
        except ValueError:
            raise self.error(name, f"is not a valid UUID: {value!r}") from None

    def items(self, name: str) -> list:
        value = self.data.get(name)
        if not isinstance(value, list) or not value:
            raise self.error(name, "must be a non-empty list")
        return value

    def positive_int(self, name: str) -> int:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(name, f"must be a positive whole number of seconds, got {value!r}")
        return value

    def positive_number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 10_000:
            raise self.error(name, f"must be a positive number of minutes below 10000, got {value!r}")
        return float(value)

    def flag(self, name: str) -> bool:
        value = self.data.get(name, False)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def only(self, *allowed: str) -> None:
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise self.error(unknown[0], f"is not a known field (expected one of: {', '.join(allowed)})")


class UuidRegistry:
    """Remembers where each UUID was declared, to refuse one UUID used by two things."""

    def __init__(self):
        self.seen: dict[UUID, str] = {}

    def claim(self, fields: Fields, name: str) -> UUID:
        value = fields.uuid(name)
        here = f"{fields.where}: {fields.prefix}{name}"
        if value in self.seen:
            raise fields.error(name, f"UUID {value} is already used by {self.seen[value]}")
        self.seen[value] = here
        return value


def read_lens(root: Path, path: Path, ids: UuidRegistry) -> Lens:
    where = path.relative_to(root)
    metadata, body = read_document(root, path)
    fields = Fields(where, metadata)
    fields.only("id", "title", "type", "tldr", "video_url", "duration_s", "tutor_instructions", "estimate_minutes")
    check_name(where, "file name", path.stem)
    lens_type = fields.text("type")
    if lens_type not in LENS_TYPES:
        raise fields.error("type", f"unknown type {lens_type!r} (expected one of: {', '.join(LENS_TYPES)})")
    is_video, is_chat = lens_type == "video", lens_type == "chat"
    video_url = fields.text("video_url", required=is_video)
    tutor_instructions = fields.text("tutor_instructions", required=is_chat)
    if is_video:
        media_file = local_media_file(root, fields, video_url)
        segment = VideoSegment(url=video_url, transcript=body, duration_s=fields.positive_int("duration_s"), media_file=media_file)
    elif is_chat:
        segment = ChatSegment(instructions=tutor_instructions, prompt=body)
    else:
        segment = ArticleSegment(markdown=body)
    return Lens(
        id=ids.claim(fields, "id"),
        name=path.stem,
        title=fields.text("title"),
        type=lens_type,
        segments=(segment,),  # a lens of this format is one segment
        tldr=fields.text("tldr", required=False),
        tutor_instructions=tutor_instructions,
        estimate_minutes=fields.positive_number("estimate_minutes"),
    )


def local_media_file(root: Path, fields: Fields, video_url: str) -> str | None:
    """A video_url that is not a web address names a media file in the content directory."""
    if URL_SCHEME.match(video_url) or video_url.startswith("//"):
        check_web_address(fields, video_url)
        return None
    if not video_url.lower().endswith(VIDEO_FILE_TYPES + AUDIO_FILE_TYPES):
        kinds = ", ".join(VIDEO_FILE_TYPES + AUDIO_FILE_TYPES)
        raise fields.error("video_url", f"a file in the content directory must be a video or audio file ({kinds}), got {video_url!r}")
    if Path(video_url).is_absolute():
        raise fields.error("video_url", f"must be a path relative to the content directory, got {video_url!r}")
    try:
        file = (root / video_url).resolve()
        found = file.is_relative_to(root.resolve()) and file.is_file()
    except (OSError, ValueError):  # a name the file system cannot take: too long, or with a NUL
        found = False
    if not found:
        raise fields.error("video_url", f"{video_url!r} is not a file in the content directory")
    return file.relative_to(root.resolve()).as_posix()


def check_web_address(fields: Fields, url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ in the host
        parts = None
    if parts is None or parts.scheme not in ("http", "https"):
        raise fields.error("video_url", f"must be an http(s) address or a file in the content directory, got {url!r}")
    if not WEB_HOST.match(parts.netloc):
        raise fields.error("video_url", f"must be a web address with a plain host name, got {url!r}")


def read_module(root: Path, path: Path, lenses: dict[str, Lens], ids: UuidRegistry) -> Module:
    where = path.relative_to(root)
    metadata, body = read_document(root, path)
    fields = Fields(where, metadata)
    fields.only("id", "slug", "title", "outcomes")
    slug = fields.text("slug", required=False, default=path.stem)
    check_name(where, "slug", slug)
    module_id = ids.claim(fields, "id")
    title = fields.text("title")
    placed: set[str] = set()
    outcomes = tuple(
        read_outcome(Fields(where, item, f"outcomes[{i}]."), lenses, ids, placed)
        for i, item in enumerate(fields.items("outcomes"))
    )
    module = Module(id=module_id, slug=slug, title=title, introduction=body, outcomes=outcomes)
    if not module.required_lens_ids:
        raise fields.error("outcomes", "the module has no required lens; mark at least one lens as not optional")
    return module


def read_outcome(fields: Fields, lenses: dict[str, Lens], ids: UuidRegistry, placed: set[str]) -> Outcome:
    fields.only("id", "title", "lenses")
    outcome_id = ids.claim(fields, "id")
    title = fields.text("title")
    refs = []
    for i, item in enumerate(fields.items("lenses")):
        name, optional = read_lens_ref(fields, f"lenses[{i}]", item)
        if name not in lenses:
            raise fields.error(f"lenses[{i}]", f"unknown lens {name!r} (no file lenses/{name}.md)")
        if name in placed:
            raise fields.error(f"lenses[{i}]", f"lens {name!r} is listed twice in this module")
        placed.add(name)
        refs.append(LensRef(lenses[name], optional))
    return Outcome(id=outcome_id, title=title, lens_refs=tuple(refs))


def read_lens_ref(parent: Fields, field: str, item) -> tuple[str, bool]:
    """A lens reference is either `name` or `{lens: name, optional: true}`."""
    if isinstance(item, str):
        return item, False
    ref = Fields(parent.where, item, f"{parent.prefix}{field}.")
    ref.only("lens", "optional")
    return ref.text("lens"), ref.flag("optional")


def read_course(root: Path, path: Path, modules_by_slug: dict[str, Module]) -> Course:
    where = path.relative_to(root)
    metadata, body = read_document(root, path)
    fields = Fields(where, metadata)
    fields.only("slug", "title", "modules")
    slug = fields.text("slug", required=False, default=path.stem)
    check_name(where, "slug", slug)
    refs, meetings = [], []
    for i, item in enumerate(fields.items("modules")):
        if isinstance(item, dict) and "meeting" in item:
            # A meeting between modules: the modules since the previous meeting are due by it.
            meeting = Fields(where, item, f"modules[{i}].")
            meeting.only("meeting")
            meetings.append(Meeting(len(meetings) + 1, meeting.text("meeting"), len(refs)))
            continue
        if isinstance(item, str):
            module_slug, optional = item, False
        else:
            ref = Fields(where, item, f"modules[{i}].")
            ref.only("module", "optional")
            module_slug, optional = ref.text("module"), ref.flag("optional")
        if module_slug not in modules_by_slug:
            raise fields.error(f"modules[{i}]", f"unknown module {module_slug!r}")
        refs.append(ModuleRef(modules_by_slug[module_slug], optional))
    if not refs:
        raise fields.error("modules", "lists meetings but no module")
    return Course(
        slug=slug, title=fields.text("title"), description=body, module_refs=tuple(refs), meetings=tuple(meetings)
    )


def check_name(where: Path, field: str, name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ContentError(where, field, f"{name!r} must be lower-case letters, digits and hyphens")


def unique_by_slug(root: Path, paths: list[Path], items: list) -> dict:
    by_slug, first_file = {}, {}
    for path, item in zip(paths, items):
        where = path.relative_to(root)
        if item.slug in by_slug:
            raise ContentError(where, "slug", f"{item.slug!r} is already used by {first_file[item.slug]}")
        by_slug[item.slug], first_file[item.slug] = item, where
    return by_slug
