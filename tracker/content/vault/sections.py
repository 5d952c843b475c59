"""Split a vault file into its YAML front matter and its sections of `key:: value` fields.

Problems are collected, not raised, because `content check` must show an author every error
in a file at once. Each one names the file and the line as the author's editor shows it:
`markup.clean` keeps lines in place, so the line numbers here are those of the original file.
"""
import re
from dataclasses import dataclass
from typing import Any

import yaml

from .markup import clean

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, the same safe constructors

HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>\S.*?)[ \t]*$")
FIELD = re.compile(r"^(?P<key>[A-Za-z][\w-]*)::(?P<rest>.*)$")
# `\##` at a line start inside a value is a heading of the content, not a new section.
ESCAPED_HEADING = re.compile(r"^\\(?=#{1,6}(?:[ \t]|$))")
FRONT_MATTER_OPENING = re.compile(r"^---[ \t]*$")
FRONT_MATTER_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$")


class VaultError(ValueError):
    """A problem in a vault file, at a line an author can go to (and in a field, when it is in one)."""

    def __init__(self, path: str, line: int, field: str | None, message: str):
        self.path, self.line, self.field, self.message = path, line, field, message
        in_field = f'field "{field}": ' if field else ""
        super().__init__(f"{path}:{line}: {in_field}{message}")


@dataclass(frozen=True)
class Field:
    """One `key:: value`; `value_line` is where its text starts, for errors inside the text."""

    key: str
    value: str
    line: int
    value_line: int


@dataclass(frozen=True)
class Section:
    """A heading and the fields under it; level 0 is the file's fields before any heading."""

    level: int  # the heading's number of `#`
    type: str  # lower case: "lens", "learning outcome", "question"; "" before any heading
    title: str  # what follows the type's colon, or ""
    heading: str  # the heading as written, without its hashes
    line: int
    fields: dict[str, Field]
    preamble: str  # text before the first field, which nothing reads but a warning should name
    preamble_line: int | None


@dataclass(frozen=True)
class FrontMatter:
    """A file's YAML and the text after it, which keeps the line it had in the file."""

    data: dict[str, Any]
    body: str  # the cleaned text after the front matter
    body_line: int  # the line of the file where `body` starts


@dataclass(frozen=True)
class VaultDocument:
    """A course, module, learning outcome or lens file as sections; what each section means is the caller's."""

    path: str
    front_matter: dict[str, Any]
    file_section: Section  # fields before the first heading, such as a course's application survey
    sections: tuple[Section, ...]


def split_front_matter(text: str, path: str) -> tuple[FrontMatter, list[VaultError]]:
    """Clean a file's raw text and read its front matter, for files that have no sections (articles).

    Cleaning comes first because suggestions are also made inside the YAML.
    """
    text = clean(text)
    lines = text.split("\n")
    if not FRONT_MATTER_OPENING.match(lines[0]):
        return FrontMatter({}, text, 1), []
    closing = next((index for index in range(1, len(lines)) if FRONT_MATTER_CLOSING.match(lines[index])), None)
    if closing is None:
        return FrontMatter({}, text, 1), [VaultError(path, 1, None, "front matter is opened with --- but never closed")]
    body, body_line = "\n".join(lines[closing + 1 :]), closing + 2
    try:
        data = yaml.load("\n".join(lines[1:closing]), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1  # the YAML starts on the file's second line
        problem = getattr(error, "problem", None) or str(error)
        error_at_line = VaultError(path, line, None, f"front matter is not valid YAML: {problem}")
        return FrontMatter({}, body, body_line), [error_at_line]
    if data is not None and not isinstance(data, dict):
        problem = "front matter must be keys with values, not a single value or a list"
        return FrontMatter({}, body, body_line), [VaultError(path, 2, None, problem)]
    return FrontMatter(data or {}, body, body_line), []


def parse_document(text: str, path: str) -> tuple[VaultDocument, list[VaultError]]:
    """Clean a file's raw text and read its front matter and sections, with every problem found."""
    front_matter, errors = split_front_matter(text, path)
    numbered = list(enumerate(front_matter.body.split("\n"), start=front_matter.body_line))
    file_section, *sections = (
        _read_section(path, heading, line, lines, errors) for heading, line, lines in _split_at_headings(numbered)
    )
    return VaultDocument(path, front_matter.data, file_section, tuple(sections)), errors


NumberedLines = list[tuple[int, str]]


def _split_at_headings(numbered: NumberedLines) -> list[tuple[re.Match[str] | None, int, NumberedLines]]:
    """The file-level part first (heading None), then each heading with the lines under it."""
    parts: list[tuple[re.Match[str] | None, int, NumberedLines]] = [(None, numbered[0][0], [])]
    for number, text in numbered:
        if heading := HEADING.match(text):
            parts.append((heading, number, []))
        else:
            parts[-1][2].append((number, text))
    return parts


def _read_section(
    path: str, heading: re.Match[str] | None, line: int, lines: NumberedLines, errors: list[VaultError]
) -> Section:
    written = heading["text"] if heading else ""
    type_, _, title = written.partition(":")
    preamble: NumberedLines = []
    values: list[tuple[str, int, list[str]]] = []  # each field's key, line and lines of value
    for number, text in lines:
        if field := FIELD.match(text):
            values.append((field["key"], number, [field["rest"].lstrip()]))
        elif values:
            values[-1][2].append(text)
        else:
            preamble.append((number, text))
    where = f'in section "{type_.strip()}"' if heading else "before the first heading"
    fields: dict[str, Field] = {}
    for key, key_line, value_lines in values:
        if key in fields:
            errors.append(VaultError(path, key_line, key, f"duplicate key {where}"))
        else:
            skipped, kept = _without_blank_ends(value_lines)
            value = "\n".join(ESCAPED_HEADING.sub("", text) for text in kept).rstrip()
            fields[key] = Field(key, value, key_line, key_line + skipped)
    skipped, kept = _without_blank_ends([text for _, text in preamble])
    return Section(
        level=len(heading["hashes"]) if heading else 0,
        type=type_.strip().lower(),
        title=title.strip(),
        heading=written,
        line=line,
        fields=fields,
        preamble="\n".join(kept).rstrip(),
        preamble_line=preamble[skipped][0] if kept else None,
    )


def _without_blank_ends(texts: list[str]) -> tuple[int, list[str]]:
    """The lines between the first and the last that are not blank, and how many were skipped before."""
    filled = [index for index, text in enumerate(texts) if text.strip()]
    if not filled:
        return 0, []
    return filled[0], texts[filled[0] : filled[-1] + 1]
