"""What a tutor knows about a lens (Material), a conversation's earlier turns, and the Tutor interface.

A new provider is one class with a `stream` method (see tracker/chat/providers.py for choosing one).
"""
from collections.abc import Iterator, Sequence
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
