"""What a tutor knows about a lens (Material), a conversation's earlier turns, and the Tutor interface.

A new provider is one class with a `stream` method (see tracker/chat/providers.py for choosing one).
"""
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from tracker.content import Lens, Module
from tracker.content.model import segment_text

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
    instructions = "\n\n".join(filter(None, (lens.tutor_instructions or DEFAULT_INSTRUCTIONS, lens.summary_for_tutor)))
    if not lens.has_chat:
        return Material(lens.title, instructions, ((lens.title, lens.text),))
    # The chat's opening prompt (what the learner was asked) is kept apart: its first paragraph.
    prompt, _, rest = lens.chat.prompt.strip().partition("\n\n")
    chat_at = lens.all_segments.index(lens.chat)
    # A chat may hide from the tutor what the learner read before it (the learner is to say it in their own words).
    hidden = lens.chat.hide_previous_from_tutor
    others = [segment_text(s) for n, s in enumerate(lens.all_segments) if n != chat_at and not (hidden and n < chat_at)]
    own_text = "\n\n".join(filter(None, [rest, *others]))
    # A lens with a chat talks about what its module taught, unless the chat hides what came before.
    module_texts = [] if hidden else [(s.lens.title, s.lens.text) for s in module.sections if not s.lens.has_chat]
    sources = [(lens.title, own_text)] + module_texts
    return Material(lens.title, instructions, tuple(sources), prompt=prompt)
