"""A tutor backed by any server that speaks OpenAI's chat-completions API: OpenAI, Ollama, vLLM, ..."""
import logging
from collections.abc import Iterator, Sequence

from .errors import TutorUnavailable
from .material import Material, Turn

log = logging.getLogger(__name__)
ROLES = {"learner": "user", "tutor": "assistant"}


def system_prompt(lens: Material, context_chars: int) -> str:
    """The lens's tutor instructions, its title, and its text trimmed to `context_chars`."""
    text = lens.text
    if len(text) > context_chars:
        cut = text.rfind("\n\n", 0, context_chars)
        text = text[: cut if cut > context_chars // 2 else context_chars] + "\n\n[…the rest of the text is left out]"
    return (
        f"{lens.instructions}\n\n"
        f"The learner is studying the lens “{lens.title}”. Base your answers on its text, below; when a"
        " question goes beyond it, say so. Write in Markdown.\n\n"
        + (f"The conversation opened by asking the learner:\n{lens.prompt}\n\n" if lens.prompt else "")
        + f"<lens-text>\n{text}\n</lens-text>"
    )


class OpenAICompatibleTutor:
    """Streams answers from a chat-completions endpoint; every failure becomes TutorUnavailable."""

    def __init__(self, *, base_url: str | None, api_key: str, model: str, context_chars: int, timeout_s: int):
        # Imported here, not at the top of the module: the SDK is a large import (see
        # `python -X importtime -c "import wsgi"`), and only installations with a model use it.
        import openai

        self.openai = openai
        # Local servers ignore the key, but the SDK insists on one.
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout_s, max_retries=0)
        self.model, self.context_chars, self.timeout_s = model, context_chars, timeout_s

    def messages(self, lens: Material, history: Sequence[Turn], question: str) -> list[dict]:
        return [
            {"role": "system", "content": system_prompt(lens, self.context_chars)},
            *({"role": ROLES[turn.role], "content": turn.text} for turn in history),
            {"role": "user", "content": question},
        ]

    def stream(self, lens: Material, history: Sequence[Turn], question: str) -> Iterator[str]:
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=self.messages(lens, history, question), stream=True
            )
        except self.openai.APIStatusError as error:
            log.warning("tutor service answered HTTP %s: %s", error.status_code, error.message)
            raise TutorUnavailable(f"The tutor service answered with an error (HTTP {error.status_code}).") from None
        except self.openai.APITimeoutError:
            raise TutorUnavailable(f"The tutor service did not answer within {self.timeout_s} s.") from None
        except self.openai.APIConnectionError as error:
            log.warning("tutor service unreachable: %s", error.__cause__ or error)
            raise TutorUnavailable("The tutor service cannot be reached right now.") from None
        with response:
            yield from self.contents(response)

    def contents(self, response) -> Iterator[str]:
        finished = False
        try:
            for chunk in response:
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        yield choice.delta.content
                    finished = finished or choice.finish_reason is not None
        except Exception as error:  # the transport's errors mid-stream are not wrapped by the SDK
            log.warning("tutor stream broke off: %r", error)
            raise TutorUnavailable("The connection to the tutor service broke off mid-answer.") from None
        if not finished:  # the server closed the stream without saying the answer was over
            raise TutorUnavailable("The tutor's answer broke off before the end.")
