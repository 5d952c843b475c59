"""Turn a vault file's raw text into the text its author means, with every line where it was.

Obsidian comments and CriticMarkup suggestions are resolved before anything else reads a file,
so the YAML, the headings and the fields see the original text. What is removed is replaced by
the newlines it held: an error found later names the line the author sees in their editor.
Block ids (`^some-id`) stay in that text; `strip_block_ids` and `find_block` deal with them.
"""
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CRITIC_OPENING = re.compile(r"\{(?P<mark>>>|\+\+|--|==|~~)")
CRITIC_CLOSING = {">>": "<<}", "++": "++}", "--": "--}", "==": "==}", "~~": "~~}"}
# Anything Obsidian would not read as a comment has to be found along with the comments:
# `%%` inside code is code (a printf format, a Jupyter magic), not the start of a comment.
# Every such opening starts with one of these characters. Finding them first and matching there
# takes a tenth of the time one alternation needs, whose line-anchored first branch makes it try
# every offset of a long article.
OPENING_CHARACTER = re.compile(r"[`~%{]")
FENCE = re.compile(r"(?P<fence>`{3,}(?=[^`\n]*$)|~{3,})", re.MULTILINE)
INLINE_OPENING = re.compile(r"(?P<ticks>`+)|(?P<comment>%%)|\{(?P<mark>>>|\+\+|--|==|~~)")
BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|$)")
JSON = json.JSONDecoder()

BLOCK_MARKER = re.compile(r"(?:^|[ \t]+)\^(?P<id>[A-Za-z0-9-]+)[ \t]*$")
HEADING_LINE = re.compile(r"^#{1,6}(?:[ \t]|$)")
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|[0-9]{1,9}[.)])[ \t]")


def clean(text: str) -> str:
    """The text as its author means it: LF line ends, no comments, suggestions undone.

    CriticMarkup resolves to the original text (the file before anyone's suggestion): comments
    and additions go, deletions and highlights keep their text, a substitution keeps its old
    text. Marks and comments are read in one pass, left to right, so whichever opens first
    wins: a `%%` inside a suggested addition goes with it and cannot pair with a later one.
    A `%%` that is never closed hides the rest of the file, as it does in Obsidian.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "%%" not in text and not CRITIC_OPENING.search(text):
        return text  # nothing to resolve: code spans alone change nothing
    return _resolve(text, _comment_or_code)


def _comment_or_code(text: str, position: int) -> re.Match[str] | None:
    """The next code fence (at a line's start, indented up to 3 spaces), code span, `%%` or CriticMarkup opening."""
    while candidate := OPENING_CHARACTER.search(text, position):
        at = candidate.start()
        line_start = text.rfind("\n", 0, at) + 1
        if at - line_start <= 3 and not text[line_start:at].strip(" ") and (fence := FENCE.match(text, at)):
            return fence
        if opening := INLINE_OPENING.match(text, at):
            return opening
        position = at + 1
    return None


def _resolve(text: str, find_opening: Callable[[str, int], re.Match[str] | None]) -> str:
    pieces: list[str] = []
    position = 0
    while match := find_opening(text, position):
        pieces.append(text[position : match.start()])
        kind = match.lastgroup
        if kind == "mark":
            closing_at = text.find(CRITIC_CLOSING[match["mark"]], match.end())
            if closing_at < 0:
                pieces.append(match.group())  # never closed, so not a mark: literal text
                position = match.end()
                continue
            pieces.append(_original_text(match["mark"], text[match.end() : closing_at], find_opening))
            position = closing_at + len(CRITIC_CLOSING[match["mark"]])
        elif kind == "comment":
            closing_at = text.find("%%", match.end())
            position = len(text) if closing_at < 0 else closing_at + 2
            pieces.append(_blank(text[match.start() : position]))
        else:
            # Code keeps its `%%`, but a suggestion inside it is still an edit of the file.
            position = _code_end(text, match)
            pieces.append(_resolve(text[match.start() : position], CRITIC_OPENING.search))
    pieces.append(text[position:])
    return "".join(pieces)


def _original_text(mark: str, inner: str, find_opening: Callable[[str, int], re.Match[str] | None]) -> str:
    metadata_length = _metadata_length(inner)
    metadata, body = inner[:metadata_length], inner[metadata_length:]
    if mark in ("--", "=="):
        kept, dropped = body, ""
    elif mark == "~~":
        kept, arrow, new = body.partition("~>")
        dropped = arrow + new
    else:
        kept, dropped = "", body
    return _blank(metadata) + _resolve(kept, find_opening) + _blank(dropped)


def _metadata_length(inner: str) -> int:
    """The length of a leading `{json}@@` prefix (an editor's author and timestamp), or 0."""
    if not inner.startswith("{"):
        return 0
    try:
        metadata, end = JSON.raw_decode(inner)
    except json.JSONDecodeError:
        return 0
    return end + 2 if isinstance(metadata, dict) and inner.startswith("@@", end) else 0


def _code_end(text: str, opening: re.Match[str]) -> int:
    if opening.lastgroup == "fence":
        fence = opening["fence"]
        closing = re.compile(rf"^[ ]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        found = closing.search(text, opening.end())
        return found.end() if found else len(text)  # an unclosed fence runs to the end, as in Markdown
    ticks = opening["ticks"]
    paragraph_end = BLANK_LINE.search(text, opening.end())
    limit = paragraph_end.start() if paragraph_end else len(text)
    # A code span ends at the same number of backticks, within its paragraph; a lone backtick
    # (an apostrophe typed wrong) is plain text and must not hide a comment far below it.
    found = re.compile(rf"(?<!`){ticks}(?!`)").search(text, opening.end(), limit)
    return found.end() if found else opening.end()


def _blank(removed: str) -> str:
    return "\n" * removed.count("\n")


@dataclass(frozen=True)
class TextBlock:
    """A block an `^id` names, located so that an excerpt can start or end exactly there."""

    block_id: str
    line: int  # 1-based line of the block's first line in the text searched
    start: int  # offset of the block's first character
    end: int  # offset just past its last character, before the marker


def strip_block_ids(text: str) -> str:
    """The text without its `^id` markers, which Obsidian hides from readers; lines stay in place.

    A marker ends a heading, a list item or a paragraph's last line (after a space), or stands
    on a line of its own after a table, quote or list. A caret anywhere else is text ("2 ^10").
    """
    if "^" not in text:
        return text
    pieces: list[str] = []
    position = 0
    for _, marker_start, marker_end in _named_blocks(text):
        pieces.append(text[position:marker_start])
        position = marker_end
    pieces.append(text[position:])
    return "".join(pieces)


def find_block(text: str, block_id: str) -> TextBlock | None:
    """The block that `[[#^block_id]]` points at, or None when the text has no such block."""
    return next((block for block, _, _ in _named_blocks(text) if block.block_id == block_id), None)


def block_text(text: str, block_id: str) -> str | None:
    """What a learner sees of the block `^block_id`, or None when the text has no such block."""
    block = find_block(text, block_id)
    return None if block is None else strip_block_ids(text[block.start : block.end])


def _named_blocks(text: str) -> Iterator[tuple[TextBlock, int, int]]:
    """Each block that carries an id, with the offsets of its marker."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    run_start: int | None = None  # first line of the run of non-blank lines being read
    last_run: tuple[int, int] | None = None  # first and last line of the latest block
    for index, line in enumerate(lines):
        if not line.strip():
            run_start = None
            continue
        marker = BLOCK_MARKER.search(line) if "^" in line else None
        if marker and marker.start() == 0:
            if last_run:
                first, last = last_run
                block = TextBlock(marker["id"], first + 1, offsets[first], offsets[last] + len(lines[last]))
                yield block, offsets[index], offsets[index] + len(line)
            run_start, last_run = None, None
            continue
        heading = HEADING_LINE.match(line)
        if heading or run_start is None:
            run_start = index
        last_run = (run_start, index)
        if marker and (heading or LIST_ITEM.match(line) or _ends_paragraph(lines, index)):
            first = index if heading or LIST_ITEM.match(line) else run_start
            block = TextBlock(marker["id"], first + 1, offsets[first], offsets[index] + marker.start())
            yield block, offsets[index] + marker.start(), offsets[index] + len(line)
        if heading:
            run_start = None  # a heading is a block of its own


def _ends_paragraph(lines: list[str], index: int) -> bool:
    return index + 1 == len(lines) or not lines[index + 1].strip() or bool(HEADING_LINE.match(lines[index + 1]))
