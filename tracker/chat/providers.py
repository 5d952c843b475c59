"""The tutor interface, what a tutor knows about a lens, and choosing the tutor from the settings.

A new provider is one class with a `stream` method, and one line in `make_tutor`.
"""
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tracker.content import Lens, Module

DEFAULT_INSTRUCTIONS = (
    "You are a patient, encouraging tutor. Help the learner understand this lens: answer from its text,"
    " keep replies to a few sentences, and end with one question that checks their understanding."
)


@dataclass(frozen=True)
class Material:
    """What the tutor draws on: the lens's title, its tutor instructions, and texts as (title, Markdown).

    The lens's own text comes first; a chat lens adds the other lenses of its module after it, and
    keeps its opening prompt (the body's first paragraph, what the learner was asked) apart.
    """

    title: str
    instructions: str
    sources: tuple[tuple[str, str], ...]
    prompt: str = ""

    @property
    def text(self) -> str:
        return "\n\n".join(f"# {title}\n\n{body}" for title, body in self.sources)


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation: role is "learner" or "tutor"."""

    role: str
    text: str


class Tutor(Protocol):
    def stream(self, lens: Material, history: Sequence[Turn], question: str) -> Iterator[str]:
        """Yield the answer to `question` in pieces; raise TutorUnavailable when it cannot answer."""


def tutor_material(module: Module, lens: Lens) -> Material:
    """The material for a lens as placed in a module."""
    instructions = lens.tutor_instructions or DEFAULT_INSTRUCTIONS
    if lens.type != "chat":
        return Material(lens.title, instructions, ((lens.title, lens.body),))
    prompt, _, rest = lens.body.strip().partition("\n\n")
    # A chat lens talks about what its module taught.
    sources = [(lens.title, rest)] + [(s.lens.title, s.lens.body) for s in module.sections if s.lens.type != "chat"]
    return Material(lens.title, instructions, tuple(sources), prompt=prompt)


def make_tutor(settings: Mapping) -> Tutor:
    """The OpenAI-compatible tutor when a model is configured, else the offline tutor."""
    if settings["TRACKER_LLM_MODEL"]:
        from .openai_compatible import OpenAICompatibleTutor

        return OpenAICompatibleTutor(
            base_url=settings["TRACKER_LLM_BASE_URL"] or None,
            api_key=settings["TRACKER_LLM_API_KEY"],
            model=settings["TRACKER_LLM_MODEL"],
            context_chars=settings["TRACKER_LLM_CONTEXT_CHARS"],
            timeout_s=settings["TRACKER_LLM_TIMEOUT_S"],
        )
    from .offline import OfflineTutor

    return OfflineTutor(delay_s=settings["TRACKER_OFFLINE_TUTOR_DELAY_MS"] / 1000)
