"""The offline tutor: answers from the lens itself, with no network and no key.

It ranks the lens's passages against the question with BM25, quotes the best ones (only the
sentences that bear on the question), and ends with a question that checks understanding.
"""
import math
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .material import Material, Turn

WORD = re.compile(r"[a-z0-9]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“*(])")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
STOPWORDS = frozenset(
    "a about after again all also am an and any are as at be because been before being but by can could"
    " did do does doing don for from get got had has have having he her here him his how i if in into is it"
    " its just know like me more most much my no not now of on once only or other our out over own same"
    " she should so some such than that the their them then there these they this those through to too"
    " under until up very was way we were what when where which while who why will with would you your"
    " yours tell explain mean means really think please thanks thank thing things something stuff lot way"
    " ways get make go need want use see twice".split()
)
TERM_QUESTIONS = (
    "In your own words, what does **{term}** mean, and why does it matter for how you study?",
    "Can you think of an example from your own studies where **{term}** shows up?",
    "How would you explain **{term}** to a friend who has never heard of it?",
)
IDEA_QUESTIONS = (
    "How would you put that in your own words, and where have you seen it in your own studying?",
    "Can you think of an example from your own studies that fits this?",
    "If a friend disagreed with this, how would you explain it to them?",
    "What would you do differently in your next study session because of this?",
)
INTROS = (
    "Here is what “{source}” says about that:",
    "Good question. “{source}” puts it like this:",
    "Let's look at how “{source}” explains it:",
)


def stem(word: str) -> str:
    """Strip common English endings, so that "memories" meets "memory" and "spaced" meets "spacing"."""
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if word.endswith(suffix) and not word.endswith(("ss", "us", "is")) and len(word) > 3:
            word = word[: -len(suffix)] + replacement
            break
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsz":  # forgetting, stopped
                word = word[:-1]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def terms(text: str) -> list[str]:
    return [stem(word) for word in WORD.findall(text.lower()) if word not in STOPWORDS and len(word) > 1]


class BM25:
    """Okapi BM25 over a list of tokenised documents."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75):
        self.counts = [Counter(document) for document in documents]
        self.lengths = [len(document) for document in documents]
        self.average_length = (sum(self.lengths) / len(self.lengths) if documents else 0) or 1
        frequency = Counter(term for counts in self.counts for term in counts)
        n = len(documents)
        self.idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in frequency.items()}
        self.k1, self.b = k1, b

    def scores(self, query: Sequence[str]) -> list[float]:
        return [self.score(query, i) for i in range(len(self.counts))]

    def score(self, query: Sequence[str], i: int) -> float:
        counts, norm = self.counts[i], 1 - self.b + self.b * self.lengths[i] / self.average_length
        return sum(
            self.idf[term] * counts[term] * (self.k1 + 1) / (counts[term] + self.k1 * norm)
            for term in set(query) if counts[term]
        )


@dataclass(frozen=True)
class Passage:
    source: str
    text: str


@lru_cache(maxsize=64)
def passages_of(material: Material) -> tuple[tuple[Passage, ...], BM25]:
    """The material's paragraphs and list items, with a BM25 index over them."""
    passages = []
    for source, body in material.sources:
        for block in re.sub(r":\n\s*\n", ":\n", body).split("\n\n"):  # "...these:" stays with its list
            if not block.strip() or block.lstrip().startswith("#"):
                continue
            # A list stays one passage, its items joined as sentences, so `excerpt` can pick items.
            passages.append(Passage(source, " ".join(LIST_ITEM.sub(" ", block).split())))
    return tuple(passages), BM25([terms(p.text) for p in passages])


class OfflineTutor:
    """Answers from the lens's own text; `delay_s` between chunks makes the streaming visible."""

    def __init__(self, delay_s: float = 0.04, words_per_chunk: int = 3):
        self.delay_s, self.words_per_chunk = delay_s, words_per_chunk

    def stream(self, lens: Material, history: Sequence[Turn], question: str) -> Iterator[str]:
        words = re.findall(r"\S+\s*", self.answer(lens, history, question))
        for start in range(0, len(words), self.words_per_chunk):
            if start and self.delay_s:
                time.sleep(self.delay_s)
            yield "".join(words[start : start + self.words_per_chunk])

    def answer(self, lens: Material, history: Sequence[Turn], question: str) -> str:
        passages, index = passages_of(lens)
        query = terms(question)
        turn = sum(1 for t in history if t.role == "tutor")
        said = " ".join(t.text for t in history if t.role == "tutor")
        # Best first, but a passage already quoted in this conversation only after the others.
        ranked = sorted(
            ((score, i) for i, score in enumerate(index.scores(query)) if score > 0),
            key=lambda pair: (quoted(passages[pair[1]], said), -pair[0], pair[1]),
        )
        if not ranked:
            return self.restart(lens, passages, turn)
        best = [passages[i] for score, i in ranked[:2] if score >= ranked[0][0] / 2]
        lines = [INTROS[turn % len(INTROS)].format(source=best[0].source), ""]
        for passage in best:
            lines += [f"> {excerpt(passage.text, query)}", ">", f"> — *{passage.source}*", ""]
        lines.append(follow_up(best[0], query, turn))
        return "\n".join(lines)

    def restart(self, lens: Material, passages: Sequence[Passage], turn: int) -> str:
        """No passage matches: bring the learner back to what the lens opens with."""
        opening = lens.prompt or (passages[0].text if passages else lens.title)
        return "\n".join([
            f"I can't find that in “{lens.title}”, so let's come back to where it starts:",
            "",
            f"> {first_sentences(opening, 3)}",
            "",
            "What do you already know about this? Can you put the main idea into a sentence or two of your own?"
            if turn % 2 == 0 else
            "What part of this do you already understand, and which part is least clear to you so far?",
        ])


def quoted(passage: Passage, said: str) -> bool:
    return passage.text[:60] in said


def excerpt(text: str, query: Sequence[str], most: int = 3) -> str:
    """The sentences of a passage that share the most words with the question, in their order."""
    sentences = SENTENCE_END.split(text)
    if len(sentences) <= most:
        return text
    wanted = set(query)
    hits = [len(wanted & set(terms(s))) for s in sentences]
    keep = sorted(sorted(range(len(sentences)), key=lambda i: (-hits[i], i))[:most])
    shown = " ".join(sentences[i] for i in keep)
    return ("… " if keep[0] else "") + shown + (" …" if keep[-1] < len(sentences) - 1 else "")


def first_sentences(text: str, count: int) -> str:
    return " ".join(SENTENCE_END.split(text)[:count])


def follow_up(passage: Passage, query: Sequence[str], turn: int) -> str:
    """A question that checks understanding: about a term the passage puts in bold and the learner asked about, if any."""
    wanted = set(query)
    for phrase in re.findall(r"\*\*([^*]{2,40}?)\*\*", passage.text):
        if wanted & set(terms(phrase)) and len(phrase.split()) <= 4:
            return TERM_QUESTIONS[turn % len(TERM_QUESTIONS)].format(term=phrase.rstrip(".:").lower())
    return IDEA_QUESTIONS[turn % len(IDEA_QUESTIONS)]
