"""How long a lens should take: reading time, plus the video's length, plus an allowance for chats."""
import math
from functools import lru_cache
import re

from .model import Lens

WORDS_PER_MINUTE = 200
WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def word_count(text: str) -> int:
    return len(WORD.findall(text))


def estimate_s(lens: Lens, chat_allowance_s: int) -> int:
    """Estimated seconds for one lens."""
    reading_s = math.ceil(word_count(lens.body) * 60 / WORDS_PER_MINUTE)
    video_s = lens.duration_s or 0
    chat_s = chat_allowance_s if lens.type == "chat" else 0
    return reading_s + video_s + chat_s


def about_minutes(seconds: int) -> int:
    """Whole minutes for "about N min", never 0 for something that takes time."""
    return max(1, round(seconds / 60)) if seconds > 0 else 0
