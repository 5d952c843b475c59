"""How long a lens should take: the author's estimate, or reading, watching and chatting time.

A lens is the sum of its segments:
- Text, an article excerpt and a question's prompt are their reading time: words at 200 a minute.
- A video is its length (a clip's, from its start to its end). Its transcript is read instead
  of, or while, watching, so it adds nothing; text beyond the transcript (what to look out for,
  questions afterwards) adds its reading time. The transcript is the section under a heading
  that starts with "Transcript" (each such section, if there are several), or the whole text
  when there is no such heading.
- A chat is its opening prompt's reading time, and the lens gets one allowance for the conversation.
The author's figures win: `estimate_minutes` (a vault's `duration_minutes`) over all of these,
`reading_minutes` over the reading and watching, `tutor_minutes` over the conversation.
"""
import math
import re
from functools import lru_cache

from markdown_it import MarkdownIt

from .model import Lens, Segment, VideoSegment, segment_text

WORDS_PER_MINUTE = 200
WORD = re.compile(r"\w+")
NEWLINE = re.compile(r"\r\n?")
# Headings as the page renders them: a "# comment" line in a code block is not one.
markdown = MarkdownIt("commonmark")


@lru_cache(maxsize=4096)
def word_count(text: str) -> int:
    return len(WORD.findall(text))


def reading_s(text: str) -> int:
    return math.ceil(word_count(text) * 60 / WORDS_PER_MINUTE)


@lru_cache(maxsize=1024)
def headings(text: str) -> tuple[tuple[int, int, str], ...]:
    """(first line, level, title) of each heading of a Markdown text whose newlines are "\n"."""
    tokens = markdown.parse(text)
    return tuple(
        (token.map[0], int(token.tag[1]), title.content.strip())
        for token, title in zip(tokens, tokens[1:])
        if token.type == "heading_open"
    )


def is_transcript(title: str) -> bool:
    return title.lower().startswith("transcript")


@lru_cache(maxsize=1024)
def beyond_transcript(body: str) -> str:
    """The text of a video lens that is not its transcript."""
    text = NEWLINE.sub("\n", body)
    lines, found = text.split("\n"), headings(text)
    transcript = set()
    for i, (line, level, title) in enumerate(found):
        if is_transcript(title):
            end = next((later for later, deeper, _ in found[i + 1:] if deeper <= level), len(lines))
            transcript.update(range(line, end))
    return "\n".join(line for n, line in enumerate(lines) if n not in transcript) if transcript else ""


def has_transcript_heading(body: str) -> bool:
    return any(is_transcript(title) for _, _, title in headings(NEWLINE.sub("\n", body)))


def estimate_s(lens: Lens, chat_allowance_s: int) -> int:
    """Estimated seconds for one lens."""
    if lens.estimate_minutes is not None:
        return author_s(lens.estimate_minutes)
    if lens.reading_minutes is not None:
        reading = author_s(lens.reading_minutes)
    else:
        reading = sum(segment_s(segment) for segment in lens.all_segments)
    if lens.tutor_minutes is not None:
        chatting = author_s(lens.tutor_minutes)
    else:
        chatting = chat_allowance_s if lens.has_chat else 0
    return reading + chatting


def author_s(minutes: float) -> int:
    return max(1, round(minutes * 60))  # 0.001 minutes is still some time


def segment_s(segment: Segment) -> int:
    if isinstance(segment, VideoSegment):
        return (segment.duration_s or 0) + reading_s(beyond_transcript(segment.transcript))
    return reading_s(segment_text(segment))


def about_minutes(seconds: int) -> int:
    """Whole minutes for "about N min", never 0 for something that takes time."""
    return max(1, round(seconds / 60)) if seconds > 0 else 0
