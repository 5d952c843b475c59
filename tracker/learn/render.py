"""Turn content into safe HTML, and small formatting helpers for templates."""
import math
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from tracker.chat import MAX_MESSAGE_CHARS
from tracker.content.estimates import about_minutes, has_transcript_heading
from tracker.content.model import youtube_id

# Raw HTML in content is not rendered, and the result is sanitised again: content files,
# and later tutor answers, never get to run script or style in a learner's page.
markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@lru_cache(maxsize=1024)
def render_markdown(text: str) -> Markup:
    return Markup(nh3.clean(markdown.render(text), link_rel="noopener noreferrer"))


def youtube_embed_url(url: str | None, start_s: float | None = None, end_s: float | None = None) -> str | None:
    """The privacy-enhanced embed address of a YouTube video, or None for other URLs.

    enablejsapi=1 makes the player report playing and pausing to the page by postMessage
    (tracker.js counts watching as activity); no YouTube script is loaded into the page.
    A clip plays from `start` to `end`, which the player takes in whole seconds: the clip is
    rounded outwards, so no second of it is cut.
    """
    video_id = youtube_id(url)
    if not video_id:
        return None
    clip = "".join(
        f"&{name}={value}" for name, value in (("start", start_s and math.floor(start_s)), ("end", end_s and math.ceil(end_s))) if value
    )
    return f"https://www.youtube-nocookie.com/embed/{video_id}?enablejsapi=1{clip}"


def clip_time(seconds: float | None) -> str:
    """11:46, 1:02:03; the start of the video for None or 0 and "end" for an open end."""
    if seconds is None:
        return "end"
    whole = math.floor(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def duration(seconds: int | None) -> str:
    """1 h 5 min, 12 min, 40 s."""
    seconds = seconds or 0
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def day(moment: datetime | None) -> str:
    return f"{moment:%-d %b %Y}" if moment else ""


def meeting_time(meeting) -> str:
    """A meeting's start on the clock its schedule is set by, e.g. "Tue 8 Dec 2026, 18:00 (Europe/Berlin)"."""
    if meeting is None or meeting.starts_at is None:
        return "no date set"
    local = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))
    return f"{local:%a %-d %b %Y, %H:%M} ({meeting.time_zone})"


def register_template_helpers(app) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown, duration=duration, day=day, about_minutes=about_minutes, clip_time=clip_time,
        meeting_time=meeting_time,
    )
    app.jinja_env.globals.update(
        youtube_embed_url=youtube_embed_url, has_transcript_heading=has_transcript_heading,
        max_message_chars=MAX_MESSAGE_CHARS,
    )
