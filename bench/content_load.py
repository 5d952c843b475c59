"""Benchmark of reading a Lens course vault: load_vault, the content store's fingerprint, and memory.

It generates a vault of the real one's size and shape into a temporary directory (by default 10
courses, 300 modules, 700 learning outcomes, 2,000 lens files, 1,100 articles of 2-5k words and
190 video transcripts, most with a word-timestamps JSON), from a seeded word list: every file and
segment kind of /work/shared/LENS-FORMAT.md, submodules, groups of LOs, inline, linked, optional
and hidden lenses, comments, CriticMarkup and a few CRLF files. The vault loads with no error.

After waiting (up to --quiet-wait-s) for a quiet machine, `--repeat` times in a row: the vault's
files are evicted from the OS page cache (fsync, then posix_fadvise DONTNEED; directories and
inodes stay cached) and `load_vault` is timed (cold), then timed again (warm); `fingerprint()`,
what the store hashes on the request that runs its 2-second check, is timed warm, and cold after
another eviction. Each row gives the wall-clock median, min-max, and the median CPU time of the
process; a line says how busy other processes kept the machine meanwhile. One more load runs
under tracemalloc (peak and kept Python allocations), and one in a fresh process for its peak
RSS (VmHWM). It prints Markdown tables, and with --profile, cProfile's top functions.

    .venv/bin/python -m bench.content_load                          # the real-sized vault, 5 rounds
    .venv/bin/python -m bench.content_load --modules 30 --lenses 200 --repeat 1    # a quick look
    .venv/bin/python -m bench.content_load --vault /tmp/lens-vault  # keep the generated vault there
    .venv/bin/python -m bench.content_load --vault DIR --existing   # measure a vault already in DIR
    .venv/bin/python -m bench.content_load --profile 20             # and cProfile's top 20 of a warm load

The exit status is 1 when the vault loads with an error, or when the cold load's median misses
--target-s (5 s, the issue's bar; 0 turns the target off).
"""

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from pathlib import Path

from bench import ROOT
from bench.machine import cpu_model, machine_cpu, wait_for_quiet_machine
from tracker.content.store import file_signature, fingerprint
from tracker.content.vault.loader import load_vault

# The generator --------------------------------------------------------------------------------
# Its own prose: words drawn from this list by a seeded random.Random, nothing taken from any vault.

WORDS = """
a about above across after again against all almost along already also always among an and another answer any
apply area around ask at attempt attention away back balance base be because become before begin behind being
belief below best better between beyond big bit body both brain break brief bring build but by call can care
careful carry case cause certain chance change check choice claim clear close common compare complete concept
consider context control core cost could course create cycle daily deal decide deep define depend describe
design detail develop did different direct do doubt down draft during each early easy effect effort else end
enough error even event every evidence exact example expect explain fact fail far feel few field find first
focus follow for form forward frame free from full future gain general give goal good great group grow guess
habit half hand hard have help here high hold hope how idea if important in include inside instead into it
its just keep kind know large last later lead learn least leave less level light like limit line link list
little long look lose low main make many map matter may mean measure memory method mind model moment more
most move much must name near need never new next no note notice now number observe of off often old on once
one only open option or order other our out over own pace page part pass path pattern people perhaps place
plan point practice predict present problem process produce progress prompt question quick quite rather
reach read ready reason recall record reduce relate remain remember repeat result return review right risk
role rule same save say second see seem sense set shape share short should show side sign simple since skill
slow small so some sort source space speak specific start state step still stop story strong study such
suggest summary support sure system take talk task teach tell test than that the their them then theory
there these they thing think this those though thought through time to together too tool topic toward track
train true try turn under understand until up use useful usual value very view wait want way we week well
what when where which while whole why will with within without word work world would write wrong year yet you
""".split()
FIRST_NAMES = "Ada Bram Cleo Dario Edda Farid Greta Hugo Ines Jonas Kira Luca Mara Nils Oona Pavel Quinn Rosa".split()
LAST_NAMES = "Abbot Brandt Castell Dunmore Ekwueme Falk Garrow Holm Iversen Jaeger Kovac Lindqvist Moreau Nakai".split()
CHANNELS = "Study Hall|The Slow Lecture|Ideas Bench|Open Seminar|Chalk and Talk|Night School|Field Notes TV|The Long Read Show".split("|")
VERBS = "Explain|Describe|Compare|Apply|Evaluate|Identify|Plan|Predict|Summarise|Justify|Distinguish|Design".split("|")
REASONS = ("an ad break", "off topic", "a long aside", "the host's intro", "repeats the last point")


def uuid_of(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Prose:
    """Sentences, paragraphs and titles from WORDS, all drawn from one seeded random."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def sentence(self, low: int = 6, high: int = 18) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(low, high))
        words[0] = words[0].capitalize()
        if len(words) > 9 and self.rng.random() < 0.35:
            words[self.rng.randrange(3, len(words) - 3)] += ","
        return " ".join(words) + ("?" if self.rng.random() < 0.06 else ".")

    def sentences(self, low: int, high: int) -> list[str]:
        return [self.sentence() for _ in range(self.rng.randint(low, high))]

    def paragraph(self, low: int = 3, high: int = 7) -> str:
        return " ".join(self.sentences(low, high))

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def title(self, low: int = 2, high: int = 5) -> str:
        return " ".join(word.capitalize() for word in self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def text(self, words: int) -> list[str]:
        """Paragraphs adding up to about `words` words."""
        paragraphs, count = [], 0
        while count < words:
            paragraphs.append(self.paragraph(2, 5))
            count += paragraphs[-1].count(" ") + 1
        return paragraphs


def unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate.lower() in taken:
        candidate, number = f"{name} {number}", number + 1
    taken.add(candidate.lower())
    return candidate


def slug_of(text: str) -> str:
    return "-".join(text.lower().split())


def clip_time(seconds: float, style: str) -> str:
    """A clip time as authors write it: M:SS, MM:SS, H:MM:SS, or M:SS.s."""
    tenths = int(seconds * 10)
    whole = tenths // 10
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if style == "decimal":
        return f"{whole // 60}:{(tenths % 600) / 10:04.1f}"
    if style == "hours":
        return f"{hours}:{minutes:02d}:{secs:02d}"
    if style == "padded":
        return f"{whole // 60:02d}:{secs:02d}"
    return f"{whole // 60}:{secs:02d}"


@dataclass
class Article:
    name: str
    # Places an excerpt can start or end at, in the order of the text, as (paragraph order, kind, text).
    anchors: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class Transcript:
    name: str
    line_starts: list[float]  # the start of each spoken line, in seconds
    timed: bool  # has a .timestamps.json


@dataclass
class ModulePlan:
    name: str
    title: str
    lens_files: list[int]
    outcomes: list[int]


@dataclass(frozen=True)
class GeneratedVault:
    """What generate_vault wrote: the counts an index of the vault holds, and the files beside them."""

    root: Path
    courses: int
    modules: int
    outcomes: int
    lens_files: int
    inline_lenses: int
    articles: int
    transcripts: int
    timestamps: int
    other_notes: int
    seconds: float

    @property
    def lenses(self) -> int:
        return self.lens_files + self.inline_lenses


class VaultGenerator:
    def __init__(self, root: Path, seed: int):
        self.root = root
        self.rng = random.Random(seed)
        self.prose = Prose(self.rng)
        self.article_list: list[Article] = []
        self.glossary: list[str] = []

    def write(self, relative: str, text: str, crlf: bool = False) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\r\n" if crlf else "\n") as out:
            out.write(text)

    def crlf(self, share: float = 0.015) -> bool:
        return self.rng.random() < share

    # Articles and transcripts ---------------------------------------------------------------

    def article(self, names: set[str]) -> Article:
        rng, prose = self.rng, self.prose
        title = prose.title(3, 7)
        article = Article(unique(title, names))
        author = [prose.name(), prose.name()] if rng.random() < 0.15 else prose.name()
        meta = [f'title: "{title}"', f"author: {json.dumps(author)}", f'source_url: "https://example.org/{slug_of(title)}"']
        if rng.random() < 0.6:
            meta.append(f"date: {rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        blocks, words, order = [], 0, 0
        target = rng.randint(2000, 5000)
        heading_next = False
        # What an article's file went through: most are clean imports; some have tracked edits or editors' notes.
        edits = 0.06 if rng.random() < 0.3 else 0.0
        notes = 0.04 if rng.random() < 0.25 else 0.0
        code = 0.03 if rng.random() < 0.06 else 0.0
        while words < target:
            if heading_next:
                heading = f"{'###' if rng.random() < 0.8 else '##'} {prose.title(2, 5)}"
                blocks.append(heading)
                article.anchors.append((order, "heading", heading))
                heading_next = False
                continue
            roll = rng.random()
            paragraph = prose.sentences(3, 8)
            if roll < edits:  # a tracked edit, which the loader undoes
                i = rng.randrange(len(paragraph))
                mark = rng.choice([
                    "{==" + paragraph[i] + "==}",
                    "{~~" + paragraph[i] + "~>" + prose.sentence() + "~~}",
                    paragraph[i] + " {>>" + prose.sentence() + "<<}",
                    paragraph[i] + ' {>>{"author":"' + prose.name() + f'","timestamp":{rng.randint(1_700_000_000_000, 1_800_000_000_000)}}}@@' + prose.sentence() + "<<}",
                    paragraph[i] + " {++" + prose.sentence() + "++}",
                    "{--" + paragraph[i] + "--}",
                ])
                text = " ".join(paragraph[:i] + [mark] + paragraph[i + 1 :])
            elif roll < edits + notes * 0.7:  # an editor's note as an Obsidian comment
                text = " ".join(paragraph) + " %% " + prose.sentence() + " %%"
            elif roll < edits + notes:  # a comment over several paragraphs
                text = "%% " + prose.paragraph(1, 3) + "\n\n" + prose.paragraph(1, 3) + " %%"
            elif roll < edits + notes + code:  # code keeps its %%
                text = f'```python\nprint("%d%% {prose.words(1, 3)}" % {rng.randint(1, 99)})\n```'
            elif roll < 0.06 + edits + notes + code:
                text = "\n".join(f"- {sentence}" for sentence in paragraph)
            elif roll < 0.10 + edits + notes + code:
                text = "> " + " ".join(paragraph)
            elif roll < 0.14 + edits + notes + code:
                words_in = paragraph[0].split()
                words_in[1] = f"**{words_in[1]}**"
                link = rng.choice([f"[{prose.words(2, 4)}](https://example.org/{rng.randrange(10 ** 6)})", f"[[{prose.title(2, 3)}]]", f"`{prose.words(1, 2)}`"])
                text = " ".join(words_in) + " " + " ".join(paragraph[1:]) + " " + link + "."
            else:  # plain text, where excerpts start and end
                text = " ".join(paragraph)
                order += 1
                article.anchors.append((order, "start", " ".join(paragraph[0].split()[: rng.randint(5, 9)])))
                article.anchors.append((order, "end", paragraph[-1]))
                if rng.random() < 0.1:
                    block_id = f"p{order}-{rng.randrange(16 ** 4):04x}"
                    text += f" ^{block_id}"
                    article.anchors.append((order, "block", f"[[#^{block_id}]]"))
            blocks.append(text)
            words += text.count(" ") + 1
            heading_next = rng.random() < 0.18
        body = "\n\n".join(blocks)
        self.write(f"articles/{article.name}.md", "---\n" + "\n".join(meta) + "\n---\n" + body + "\n", self.crlf(0.01))
        return article

    def transcript(self, names: set[str], timed: bool) -> Transcript:
        rng, prose = self.rng, self.prose
        title, channel = prose.title(3, 6), rng.choice(CHANNELS)
        transcript = Transcript(unique(f"{title} - {channel}", names), [], timed)
        rate = rng.uniform(2.1, 2.9)  # words a second
        target, spoken, now = rng.randint(1500, 6000), 0, rng.uniform(0, 3)
        paragraphs, lines, entries = [], [], []
        while spoken < target:
            words = prose.sentence(4, 15).split()
            hundredths = int(now * 100)
            start = f"{hundredths // 6000}:{hundredths % 6000 // 100:02d}.{hundredths % 100:02d}"
            transcript.line_starts.append(now)
            entries.extend(f'  {{\n    "text": {json.dumps(word)},\n    "start": "{start}"\n  }}' for word in words)
            lines.append(" ".join(words))
            spoken += len(words)
            now += len(words) / rate + rng.uniform(0.1, 1.5)
            if len(lines) >= rng.randint(5, 12):
                paragraphs.append(" ".join(lines))
                lines = []
        paragraphs.append(" ".join(lines))
        video_id = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", k=11))
        meta = f'---\ntitle: "{title}"\nchannel: "{channel}"\nurl: "https://www.youtube.com/watch?v={video_id}"\n---\n\n'
        self.write(f"video_transcripts/{transcript.name}.md", meta + "\n\n".join(paragraphs) + "\n")
        if timed:
            self.write(f"video_transcripts/{transcript.name}.timestamps.json", "[\n" + ",\n".join(entries) + "\n]")
        return transcript

    # Segments ------------------------------------------------------------------------------

    def text_content(self, lens_names: list[str], images: list[str]) -> str:
        rng, prose = self.rng, self.prose
        parts = []
        if rng.random() < 0.25:
            parts.append(f"\\{'#' * rng.randint(2, 3)} {prose.title(2, 4)}")  # a heading inside the content
        for _ in range(rng.randint(1, 3)):
            paragraph = prose.paragraph(3, 7)
            roll = rng.random()
            if roll < 0.08 and lens_names:
                other = rng.choice(lens_names)
                paragraph += f" See [[{other}|{prose.words(2, 4)}]] for more."
            elif roll < 0.13:
                paragraph += f" ^key-{rng.randrange(16 ** 4):04x}"
            elif roll < 0.18:
                paragraph = paragraph.replace(". ", ". {~~" + prose.words(2, 5) + "~>" + prose.words(2, 5) + "~~} ", 1)
            elif roll < 0.22:
                paragraph += " %% " + prose.sentence() + " %%"
            parts.append(paragraph)
        if rng.random() < 0.2:
            parts.append("\n".join(f"- {prose.sentence(4, 10)}" for _ in range(rng.randint(2, 5))))
        if images and rng.random() < 0.05:
            parts.append(f"![[../images/{rng.choice(images)}]]")
        return "\n\n".join(parts)

    def optional(self, share: float = 0.07) -> str:
        return "optional:: true\n" if self.rng.random() < share else ""

    def text_segment(self, lens_names, images) -> str:
        content = self.text_content(lens_names, images)
        if self.rng.random() < 0.3 and "\n" not in content and not content.startswith("\\"):
            return f"#### Text\ncontent:: {content}\n{self.optional()}"
        return f"#### Text\n{self.optional()}content::\n{content}\n"

    def article_segments(self, article: Article, count: int) -> list[str]:
        """`count` excerpts from one article in reading order; the later ones reuse the first's source."""
        rng, anchors = self.rng, article.anchors
        segments, position = [], 0
        for number in range(count):
            lines = ["#### Article"]
            if number == 0:
                shown = f"|{article.name[:20].strip()}" if rng.random() < 0.2 else ""
                lines.append(f"source:: [[../articles/{article.name}{shown}]]")
            starts = [a for a in anchors[position:] if a[1] in ("heading", "start", "block")]
            mode = rng.random()
            if not starts or (count == 1 and mode < 0.12):
                segments.append("\n".join(lines) + "\n" + self.optional())  # the whole article
                break
            first = rng.choice(starts[: max(1, len(starts) // max(1, count - number))])
            index = anchors.index(first)
            ends = [a for a in anchors[index + 1 :] if a[1] in ("end", "block") and a[0] <= first[0] + rng.randint(2, 12)]
            if mode < 0.8 or not ends:
                lines.append(f"from:: {first[2]}")
            if ends and (mode < 0.7 or mode >= 0.8):
                end = rng.choice(ends)
                lines.append(f"to:: {end[2]}")
                position = anchors.index(end) + 1
            else:
                position = len(anchors)  # runs to the article's end
            segments.append("\n".join(lines) + "\n" + self.optional())
            if position >= len(anchors):
                break
        return segments

    def video_segments(self, transcript: Transcript, count: int) -> list[str]:
        rng, starts = self.rng, transcript.line_starts
        segments, index = [], 0
        for number in range(count):
            lines = ["#### Video"]
            if number == 0:
                lines.append(f"source:: [[../video_transcripts/{transcript.name}]]")
            style = rng.choice(["plain", "plain", "padded", "decimal", "hours"])
            first = rng.randrange(index, max(index + 1, len(starts) - 20))
            start = starts[first]
            later = [i for i in range(first + 1, len(starts)) if 30 <= starts[i] - start <= 900]
            if not later:
                lines.append(f"from:: {clip_time(start, style)}")
                segments.append("\n".join(lines) + "\n")
                break
            last = rng.choice(later)
            if number > 0 or rng.random() < 0.92:
                lines.append(f"from:: {clip_time(start, style)}")
            lines.append(f"to:: {clip_time(starts[last], style)}")
            if rng.random() < 0.08:
                skip_from = start + (starts[last] - start) * 0.3
                lines.append(f'skip:: {clip_time(skip_from, "decimal")}-{clip_time(skip_from + 12, "decimal")} "{rng.choice(REASONS)}"')
            segments.append("\n".join(lines) + "\n" + self.optional(0.04))
            index = last
            if index >= len(starts) - 21:
                break
        return segments

    def chat_segment(self) -> str:
        prose, rng = self.prose, self.rng
        lines = ["#### Chat", "instructions::", *prose.sentences(2, 5)]
        if rng.random() < 0.3:
            lines.append(f"content:: {prose.sentence()}")
        if rng.random() < 0.3:
            lines.append(f"hidePreviousContentFromUser:: {rng.choice(['true', 'false'])}")
        if rng.random() < 0.3:
            lines.append(f"hidePreviousContentFromTutor:: {rng.choice(['true', 'false'])}")
        return "\n".join(lines) + "\n" + self.optional(0.05)

    def question_segment(self) -> str:
        prose, rng = self.prose, self.rng
        style = rng.choice(["", ": Open", ": Open", ": Choice", ": Choice", ": Rating"])
        lines = [f"#### Question{style}", f"id:: q-{rng.randrange(16 ** 10):010x}"]
        if style == ": Choice":
            lines.append(f"content:: {prose.sentence()}")
            correct = rng.randrange(4)
            lines += ["options::", *(f"- [{'x' if i == correct else ' '}] {prose.words(3, 8)}" for i in range(4))]
            if rng.random() < 0.6:
                lines.append(f"explanation:: {prose.sentence()}")
        elif style == ": Rating":
            lines.append(f"content:: On a scale of 1 to 5, {prose.sentence().lower()}")
        else:
            lines += ["content::", prose.paragraph(1, 3)]
            if rng.random() < 0.4:
                lines.append(f"feedback-instructions:: {prose.sentence()}")
        if rng.random() < 0.6:
            lines += ["assessment-instructions::", *prose.sentences(1, 3)]
        return "\n".join(lines) + "\n" + self.optional(0.05)

    def roleplay_segment(self) -> str:
        prose, rng = self.prose, self.rng
        lines = ["#### Roleplay", f"id:: rp-{rng.randrange(16 ** 10):010x}", f"content:: {prose.paragraph(1, 2)}", "ai-instructions::", *prose.sentences(2, 4)]
        if rng.random() < 0.6:
            lines.append(f"opening-message:: {prose.sentence()}")
        return "\n".join(lines) + "\n"

    def callout(self, inner: list[str]) -> list[str]:
        collapse = self.rng.choice(["closed", "closed", "open"])
        return [f"#### Callout: {self.prose.title(2, 4)}\ncollapse:: {collapse}\n", *inner, "#### End Callout\n"]

    def segments(self, kind: str, sources: list, lens_names: list[str], images: list[str]) -> str:
        """A lens's segments, from its kind: article, video, mixed, text or practice."""
        rng = self.rng
        text = lambda: self.text_segment(lens_names, images)  # noqa: E731
        out = [text()]
        for source in sources:
            if isinstance(source, Article):
                excerpts = self.article_segments(source, rng.choice([1, 1, 1, 2, 2, 3]))
                for number, excerpt in enumerate(excerpts):
                    out.append(excerpt)
                    if number + 1 < len(excerpts) and rng.random() < 0.6:
                        out.append(text())
            else:
                out += self.video_segments(source, rng.choice([1, 1, 1, 2]))
            if rng.random() < 0.3:
                out.append(text())
        if kind in ("text", "practice"):
            out += [text() for _ in range(rng.randint(1, 2))]
        if kind == "practice":
            out += [self.question_segment(), self.roleplay_segment() if rng.random() < 0.5 else self.question_segment()]
        if rng.random() < 0.75:
            out.append(self.chat_segment())
        if rng.random() < 0.45:
            out.append(self.question_segment())
        if rng.random() < 0.15 and len(out) > 2:  # a callout around a segment or two
            at = rng.randrange(1, len(out))
            width = rng.randint(1, min(2, len(out) - at))
            out[at : at + width] = self.callout(out[at : at + width])
        if rng.random() < 0.05:
            out.append(f"%% To do: {self.prose.sentence()}\n\n{self.prose.sentence()} %%\n")
        return "\n".join(out)

    def estimate_lines(self, separator: str, has_chat: bool) -> list[str]:
        rng = self.rng
        if rng.random() < 0.1:
            return [f"duration_minutes{separator} {rng.randint(5, 40)}"]
        lines = [f"reading_minutes{separator} {rng.randint(2, 25)}"]
        if has_chat and rng.random() < 0.7:
            lines.append(f"tutor_minutes{separator} {rng.randint(3, 15)}")
        if has_chat and rng.random() < 0.1:
            lines.append(f"min_chat_messages{separator} {rng.randint(2, 4)}")
        return lines

    # The vault ------------------------------------------------------------------------------

    def generate(self, modules: int, outcomes: int, lenses: int, articles: int, videos: int, courses: int) -> GeneratedVault:
        started = time.perf_counter()
        rng, prose = self.rng, self.prose
        if lenses < modules or outcomes > lenses or courses > modules or min(modules, courses) < 1:
            raise ValueError("need at least one lens a module, no more LOs than lenses, and 1 <= courses <= modules")

        images = [f"diagram {n}.png" for n in range(1, 1 + max(2, modules // 15))]
        for name in images:
            path = self.root / "images" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + rng.randbytes(200))

        taken: set[str] = set()
        self.glossary = [unique(prose.title(1, 2), taken) for _ in range(max(3, modules // 6))]
        names: set[str] = set()
        article_list = [self.article(names) for _ in range(articles)]
        timed_count = round(videos * 0.85)
        transcript_list = [self.transcript(names, n < timed_count) for n in range(videos)]
        rng.shuffle(transcript_list)

        # Lens files: names, and what each quotes. Every article and video is quoted by some lens
        # (but 2% of the articles, drafts no lens uses yet).
        lens_names = [unique(prose.title(2, 5), names) for _ in range(lenses)]
        article_deck = rng.sample(article_list, len(article_list) - len(article_list) // 50)
        video_deck = list(transcript_list)
        quoting = max(round(lenses * 0.62), min(lenses, len(article_deck) + len(video_deck)))
        kinds = (["article"] * round(quoting * 0.78) + ["video"] * round(quoting * 0.16)
                 + ["mixed"] * (quoting - round(quoting * 0.78) - round(quoting * 0.16)))
        kinds += [rng.choice(["text", "practice"]) for _ in range(lenses - len(kinds))]
        if not transcript_list:  # a tiny vault may have no video, or no article
            kinds = [{"video": "text", "mixed": "article"}.get(kind, kind) for kind in kinds]
        if not article_list:
            kinds = [{"article": "text", "mixed": "video" if transcript_list else "text"}.get(kind, kind) for kind in kinds]
        rng.shuffle(kinds)
        lens_sources: list[list] = []
        left_a = sum(1 for kind in kinds if kind in ("article", "mixed"))  # lenses still to come that quote one
        left_v = sum(1 for kind in kinds if kind in ("video", "mixed"))
        for kind in kinds:
            sources = []
            if kind in ("article", "mixed"):
                take = max(1, math.ceil(len(article_deck) / left_a))
                sources += [article_deck.pop() if article_deck else rng.choice(article_list) for _ in range(take)]
                left_a -= 1
            if kind in ("video", "mixed"):
                take = max(1, math.ceil(len(video_deck) / left_v))
                sources += [video_deck.pop() if video_deck else rng.choice(transcript_list) for _ in range(take)]
                left_v -= 1
            lens_sources.append(sources)
        self.article_list = article_list

        # Modules: lens files and LOs shared out, each module with at least one lens.
        weights = list(accumulate(rng.uniform(0.3, 1.7) for _ in range(modules)))
        lens_counts = [1] * modules
        for i in rng.choices(range(modules), cum_weights=weights, k=lenses - modules):
            lens_counts[i] += 1
        lo_counts = [0] * modules
        for _ in range(outcomes):
            while True:
                i = rng.choices(range(modules), cum_weights=weights)[0]
                if lo_counts[i] < lens_counts[i] and (lo_counts[i] or rng.random() > 0.08 or sum(lo_counts) > outcomes * 0.9):
                    lo_counts[i] += 1
                    break
        order = list(range(lenses))
        rng.shuffle(order)
        plans, module_names, lo_number, lens_at = [], set(), 0, 0
        for m in range(modules):
            title = prose.title(2, 4)
            plans.append(ModulePlan(unique(title, module_names), title, order[lens_at : lens_at + lens_counts[m]], list(range(lo_number, lo_number + lo_counts[m]))))
            lens_at += lens_counts[m]
            lo_number += lo_counts[m]

        for number, name in enumerate(lens_names):
            self.write_lens(name, kinds[number], lens_sources[number], lens_names, images)

        lo_names: list[str] = []
        lo_taken: set[str] = set()
        statements = []
        for _ in range(outcomes):
            statement = f"{rng.choice(VERBS)} {prose.words(5, 12)}"
            statements.append(statement)
            lo_names.append(unique(" ".join(statement.split()[:7]).capitalize(), lo_taken))

        inline = 0
        module_slugs: set[str] = set()
        placed_so_far: list[int] = []
        old_style: dict[int, list[int]] = {}
        for plan in plans:
            text, count = self.module_text(plan, lens_names, lo_names, images, module_slugs, placed_so_far, old_style)
            inline += count
            self.write(f"modules/{plan.name}.md", text, self.crlf(0.02))
            placed_so_far += plan.lens_files
        for number, statement in enumerate(statements):
            self.write_outcome(lo_names[number], statement, old_style.get(number, []), lens_names)

        other = self.write_courses(plans, courses) + self.write_other_notes(lens_names, modules)
        return GeneratedVault(
            root=self.root, courses=courses, modules=modules, outcomes=outcomes, lens_files=lenses, inline_lenses=inline,
            articles=articles, transcripts=videos, timestamps=timed_count, other_notes=other + len(images),
            seconds=time.perf_counter() - started,
        )

    def write_lens(self, name: str, kind: str, sources: list, lens_names: list[str], images: list[str]) -> None:
        rng, prose = self.rng, self.prose
        body = self.segments(kind, sources, lens_names, images)
        title = prose.title(2, 6)
        if rng.random() < 0.05:
            title = title.replace(" ", " {~~" + prose.words(1, 2) + "~>" + prose.words(1, 2) + "~~} ", 1)
        meta = [f"id: '{uuid_of(rng)}'"]
        if rng.random() < 0.9:
            meta.append(f"title: {title}")
        tldr = prose.sentence(10, 30)
        if rng.random() < 0.04:
            tldr = tldr.replace(" ", ' {>>{"author":"' + prose.name() + '","timestamp":1767225600000}@@' + prose.words(3, 6) + "<<} ", 1)
        meta.append(f"tldr: {tldr}")
        if rng.random() < 0.7:
            meta += ["summary_for_tutor: >-", *(f"  {line}" for line in prose.sentences(2, 4))]
        meta += self.estimate_lines(":", "#### Chat" in body)
        meta.append(f"tags: [lens, {rng.choice(WORDS)}]")
        if rng.random() < 0.1:
            meta += ["glossary_terms:", *(f'  - "[[../glossary/{term}]]"' for term in rng.sample(self.glossary, rng.randint(1, 3)))]
        self.write(f"Lenses/{name}.md", "---\n" + "\n".join(meta) + "\n---\n" + body, self.crlf())

    def inline_lens(self, title: str, lens_names: list[str], images: list[str], sources: list) -> str:
        rng, prose = self.rng, self.prose
        kind = "article" if sources else rng.choice(["text", "text", "practice"])
        body = self.segments(kind, sources, lens_names, images)
        lines = [f"# Lens: {title}", f"id:: {uuid_of(rng)}", f"tldr:: {prose.sentence(8, 20)}", *self.estimate_lines("::", "#### Chat" in body)]
        if rng.random() < 0.5:
            lines += ["summary_for_tutor::", *prose.sentences(2, 3)]
        return "\n".join(lines) + "\n" + body

    def module_text(self, plan: ModulePlan, lens_names, lo_names, images, module_slugs, placed_so_far, old_style) -> tuple[str, int]:
        """A module file: LO groups each followed by its lenses, in submodules or not; and how many inline lenses it has."""
        rng, prose = self.rng, self.prose
        slug = slug_of(plan.title)
        while slug in module_slugs:
            slug += f"-{rng.randrange(10)}"
        module_slugs.add(slug)
        id_key = "contentId" if rng.random() < 0.08 else "id"
        meta = [f"{id_key}: '{uuid_of(rng)}'", f"slug: {slug}", f"title: {plan.title}", "tags:", "  - module"]
        out = ["---\n" + "\n".join(meta) + "\n---", prose.paragraph(1, 3)]
        if rng.random() < 0.15:
            out.append(f"%% {prose.sentence()}\n{prose.sentence()} %%")
        inline = 0
        if rng.random() < 0.2:
            out.append(self.inline_lens(f"Welcome to {plan.title}", lens_names, images, []))
            inline += 1

        # Groups of LOs, each with at least one lens after it; a module without LOs is one implicit group.
        groups: list[list[int]] = []
        los = list(plan.outcomes)
        while los:
            size = min(len(los), rng.choices([1, 2, 3], weights=[75, 18, 7])[0])
            if len(groups) + 1 + (len(los) - size > 0) > len(plan.lens_files):
                size = len(los)
            groups.append(los[:size])
            los = los[size:]
        groups = groups or [[]]
        shares = [1] * len(groups)
        for _ in range(len(plan.lens_files) - len(groups)):
            shares[rng.randrange(len(groups))] += 1
        lens_queue = list(plan.lens_files)
        submodule_starts = set()
        if len(groups) >= 2 and rng.random() < 0.55:
            submodule_starts = {0, *rng.sample(range(1, len(groups)), rng.randint(1, min(3, len(groups) - 1)))}
        first_lens, reused = True, set()
        for number, group in enumerate(groups):
            if number in submodule_starts:
                out.append(f"# Submodule: {prose.title(2, 4)}")
            group_lenses = [lens_queue.pop(0) for _ in range(shares[number])]
            for lo in group:
                lines = ["# Learning Outcome:", f"source:: [[../Learning Outcomes/{lo_names[lo]}]]"]
                if rng.random() < 0.05:
                    lines.append("optional:: true")
                out.append("\n".join(lines))
                if len(group) == 1 and rng.random() < 0.06:  # an older LO file that lists its lenses itself
                    take = rng.randint(1, len(group_lenses))
                    old_style[lo], group_lenses = group_lenses[:take], group_lenses[take:]
                    first_lens = False
            for lens in group_lenses:
                heading = f"# Lens: {prose.title(2, 4)}" if rng.random() < 0.4 else "# Lens:"
                target = rng.choice([lens_names[lens], lens_names[lens], f"{lens_names[lens]}.md", f"{lens_names[lens]}|{prose.title(2, 3)}"])
                lines = [heading, f"source:: [[../Lenses/{target}]]"]
                if not first_lens and rng.random() < 0.16:
                    lines.append("optional:: true")
                    if rng.random() < 0.25:
                        lines.append("hide:: true")
                first_lens = False
                out.append("\n".join(lines))
            if rng.random() < 0.08:
                quoted = [rng.choice(self.article_list)] if self.article_list and rng.random() < 0.3 else []
                out.append(self.inline_lens(prose.title(2, 4), lens_names, images, quoted))
                inline += 1
            other = rng.choice(placed_so_far) if placed_so_far and rng.random() < 0.03 else None
            if other is not None and other not in reused:  # a lens another module also lists
                reused.add(other)
                out.append(f"# Lens:\nsource:: [[../Lenses/{lens_names[other]}]]\noptional:: true")
            if rng.random() < 0.04:  # a lens taken out, and one only suggested: neither is read
                out.append(f"%% Taken out for now:\n\n# Lens:\nsource:: [[../Lenses/Draft {prose.title(2, 3)}]]\n\n{prose.sentence()} %%")
            if rng.random() < 0.02:
                out.append(f"{{++# Lens:\nsource:: [[../Lenses/Suggested {prose.title(2, 3)}]]++}}")
        return "\n\n".join(out) + "\n", inline

    def write_outcome(self, name: str, statement: str, own_lenses: list[int], lens_names: list[str]) -> None:
        rng, prose = self.rng, self.prose
        meta = [f"id: '{uuid_of(rng)}'", f"learning-outcome: {statement}"]
        if rng.random() < 0.4:
            meta.append(f"stage: {rng.randint(1, 4)}")
        out = ["---\n" + "\n".join(meta) + "\n---"]
        for lens in own_lenses:
            out.append(f"## Lens:\nsource:: [[../Lenses/{lens_names[lens]}]]")
        if rng.random() < 0.3:
            out.append(f"## Test:\nid:: {uuid_of(rng)}\n\n{self.question_segment()}")
        if rng.random() < 0.15:
            suggested = [f"## Lens:\nsource:: [[../Lenses/{rng.choice(lens_names)}]]\nnotes:: {prose.sentence()}" for _ in range(rng.randint(1, 3))]
            out.append("# Suggested Lenses:\n\n" + "\n\n".join(suggested))
        self.write(f"Learning Outcomes/{name}.md", "\n\n".join(out) + "\n", self.crlf(0.01))

    def write_courses(self, plans: list[ModulePlan], courses: int) -> int:
        """Course files listing every module, meetings every few modules; returns how many meeting notes and surveys it wrote."""
        rng, prose = self.rng, self.prose
        surveys = ["After the Meeting", "Facilitator Debrief", "Application Form"]
        for survey in surveys:
            self.write(f"surveys/{survey}.md", f"---\ntitle: {survey}\n---\n" + "\n\n".join(prose.text(120)) + "\n")
        notes = len(surveys)
        cuts = sorted(rng.sample(range(1, len(plans)), courses - 1)) if courses > 1 else []
        bounds = list(zip([0, *cuts], [*cuts, len(plans)]))
        titles: set[str] = set()
        for number, (start, end) in enumerate(bounds):
            title = unique(prose.title(2, 4), titles)
            folder = ["user-facing", "user-facing", "in-development", "user-facing", "archived"][number % 5]
            modules = plans[start:end]
            if courses > 1 and rng.random() < 0.3:  # an orientation module from another course
                modules = [rng.choice(plans[:start] + plans[end:])] + modules
            meta = [f"id: '{uuid_of(rng)}'", f"slug: {slug_of(title)}", f'title: "{title}"', f'description: "{prose.sentence()}"', "tags: [cohort]"]
            out = ["---\n" + "\n".join(meta) + "\n---"]
            if rng.random() < 0.5:
                out.append(f"%% {prose.sentence()}\n{prose.sentence()} %%")
            out.append("application-survey:: [[../../surveys/Application Form|Apply]]")
            week, since_meeting = 0, 0
            for position, plan in enumerate(modules):
                lines = [f"# Module: [[../../modules/{plan.name}|{plan.title}]]" if rng.random() < 0.7 else f"# Module: [[../../modules/{plan.name}]]"]
                if position and rng.random() < 0.08:
                    lines.append("optional:: true")
                out.append("\n".join(lines))
                since_meeting += 1
                if since_meeting >= rng.randint(2, 4) or position == len(modules) - 1:
                    week, since_meeting = week + 1, 0
                    self.write(f"meetings/{title}/Week {week}.md", f"# Week {week}\n\n" + "\n\n".join(prose.text(150)) + "\n")
                    notes += 1
                    lines = [f"# Meeting: Week {week}", f"meeting-doc:: [[../../meetings/{title}/Week {week}]]", "survey:: [[../../surveys/After the Meeting]]"]
                    if rng.random() < 0.4:
                        lines.append("facilitator-survey:: [[../../surveys/Facilitator Debrief]]")
                    if rng.random() < 0.2:
                        lines.append("meeting-doc-template:: https://docs.example.org/templates/weekly")
                    out.append("\n".join(lines))
            self.write(f"courses/{folder}/{title}.md", "\n\n".join(out) + "\n", crlf=number == 1)
        return notes

    def write_other_notes(self, lens_names: list[str], modules: int) -> int:
        """Notes a real vault also holds and no course reaches: guides, glossary, archived modules."""
        rng, prose = self.rng, self.prose
        count = 0
        for guide in ("Element Reference", "Writing Lenses", "Writing Modules", "Writing Course Files"):
            self.write(f"AI Guide/{guide}.md", f"# {guide}\n\n" + "\n\n".join(prose.text(800)) + "\n")
            count += 1
        taken = {term.lower() for term in self.glossary}
        for term in self.glossary:
            self.write(f"glossary/{term}.md", f"---\naliases: []\n---\n{prose.paragraph(1, 3)}\n")
            count += 1
        for _ in range(max(1, modules // 20)):
            body = "\n\n".join(f"# Lens:\nsource:: [[../Lenses/{rng.choice(lens_names + ['Gone ' + prose.title(1, 2)])}]]" for _ in range(3))
            self.write(f"Archive/{unique(prose.title(2, 3), taken)}.md", f"---\nslug: old\ntitle: Old\n---\n{body}\n")
            count += 1
        return count


def generate_vault(
    root: Path | str, modules: int = 300, lenses: int = 2000, outcomes: int | None = None, articles: int | None = None,
    videos: int | None = None, courses: int | None = None, seed: int = 1,
) -> GeneratedVault:
    """Write a Lens vault into `root` (created; should be empty). Counts left out scale with `lenses`/`modules`
    as in the real vault: 700 LOs, 1,100 articles and 190 transcripts for 2,000 lenses, a course per 30 modules."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    outcomes = round(lenses * 0.35) if outcomes is None else outcomes
    articles = round(lenses * 0.55) if articles is None else articles
    videos = round(lenses * 0.095) if videos is None else videos
    courses = max(min(2, modules), round(modules / 30)) if courses is None else courses
    return VaultGenerator(root, seed).generate(modules, outcomes, lenses, articles, videos, courses)


# Measuring ------------------------------------------------------------------------------------

CONTENT_FOLDERS = ("courses", "modules", "Learning Outcomes", "Lenses", "articles", "video_transcripts")


@dataclass
class DiskUsage:
    files: dict[str, int]  # by top-level folder (other folders together)
    total_files: int
    total_bytes: int
    hashed_files: int  # what fingerprint() reads: .md and .json
    hashed_bytes: int
    timestamps: int


def disk_usage(root: Path) -> DiskUsage:
    files = {name: 0 for name in (*CONTENT_FOLDERS, "other")}
    usage = DiskUsage(files, 0, 0, 0, 0, 0)
    for folder, _, names in os.walk(root):
        top = Path(folder).relative_to(root).parts[:1]
        key = top[0] if top and top[0] in CONTENT_FOLDERS else "other"
        for name in names:
            size = os.path.getsize(os.path.join(folder, name))
            usage.total_files += 1
            usage.total_bytes += size
            if name.endswith(".timestamps.json"):
                usage.timestamps += 1
            elif name.endswith(".md"):
                files[key] += 1
            if name.endswith((".md", ".json")) and not name.startswith("."):
                usage.hashed_files += 1
                usage.hashed_bytes += size
    return usage


def evict(root: Path) -> None:
    """Drop the vault's files from the OS page cache (their pages only; directories and inodes stay cached)."""
    for folder, _, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


@dataclass
class Samples:
    """Wall and CPU seconds of repeated runs of one measurement."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self, function, *args):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = function(*args)
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(time.process_time() - cpu_started)
        return result


# VmHWM, not getrusage's ru_maxrss: a child's ru_maxrss starts from its parent's size at the fork.
RSS_PROBE = """
import sys
from pathlib import Path
from tracker.content.vault.loader import load_vault
def peak_kb():
    return next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
before = peak_kb()
loaded = load_vault(sys.argv[1])
print(before, peak_kb(), len(loaded.errors))
"""


def fresh_process_rss(root: Path) -> tuple[float, float]:
    """(peak RSS after importing the loader, peak RSS after one load) of a new Python process, in MB."""
    result = subprocess.run([sys.executable, "-c", RSS_PROBE, str(root)], cwd=ROOT, capture_output=True, text=True, check=True)
    before_kb, after_kb, _ = (int(value) for value in result.stdout.split())
    return before_kb / 1024, after_kb / 1024


def traced_load(root: Path) -> tuple[float, float]:
    """(peak, kept) Python allocations of one load, in MB, by tracemalloc; kept is what the VaultLoad holds."""
    gc.collect()
    tracemalloc.start()
    loaded = load_vault(root)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del loaded
    return peak / 2 ** 20, kept / 2 ** 20


def where(filename: str) -> str:
    if filename == "~":
        return "(built-in)"
    path = Path(filename)
    if path.is_relative_to(ROOT) and ".venv" not in path.parts:
        return path.relative_to(ROOT).as_posix()
    for marker in ("site-packages", "python3.11", "lib"):
        if marker in path.parts:
            return "/".join(path.parts[path.parts.index(marker) + 1 :])
    return filename


def profile(root: Path, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    load_vault(root)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(own for _, _, own, _, _ in stats.values())
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    print(f"\ncProfile of one warm load ({total:.2f} s of own time under the profiler), top {top} by own time:\n")
    print("| function | file:line | calls | own s | cumulative s |\n|---|---|---:|---:|---:|")
    for (filename, line, name), (_, calls, own, cumulative, _) in rows:
        print(f"| {name} | {where(filename)}{f':{line}' if line else ''} | {calls:,} | {own:.2f} | {cumulative:.2f} |")
    ours = [item for item in stats.items() if "tracker/content" in item[0][0]]
    ours.sort(key=lambda item: item[1][3], reverse=True)
    print(f"\ntracker/content functions, top {top} by cumulative time:\n")
    print("| function | file:line | calls | own s | cumulative s |\n|---|---|---:|---:|---:|")
    for (filename, line, name), (_, calls, own, cumulative, _) in ours[:top]:
        print(f"| {name} | {where(filename)}{f':{line}' if line else ''} | {calls:,} | {own:.2f} | {cumulative:.2f} |")


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def row(name: str, samples: Samples) -> str:
    wall = samples.wall
    spread = f"{seconds(min(wall))} – {seconds(max(wall))}"
    return f"| {name} | {len(wall)} | {seconds(statistics.median(wall))} | {spread} | {seconds(statistics.median(samples.cpu))} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.content_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=300)
    parser.add_argument("--lenses", type=int, default=2000, help="lens files; inline lenses come on top (about 1 for every 3 modules)")
    parser.add_argument("--outcomes", type=int, help="LO files (default: 35%% of --lenses)")
    parser.add_argument("--articles", type=int, help="default: 55%% of --lenses")
    parser.add_argument("--videos", type=int, help="video transcripts (default: 9.5%% of --lenses)")
    parser.add_argument("--courses", type=int, help="default: one per 30 modules")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vault", type=Path, help="generate the vault into DIR and keep it (default: a temporary directory)")
    parser.add_argument("--existing", action="store_true", help="measure the vault already in --vault DIR; generate nothing")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions of a warm load")
    parser.add_argument("--quiet-wait-s", type=float, default=60, help="wait up to this long for a quiet machine before measuring (0: not at all)")
    parser.add_argument("--target-s", type=float, default=5.0, help="the cold load's median must stay under this (0: no target)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.existing and args.vault is None:
        parser.error("--existing needs --vault DIR")
    if args.vault and not args.existing and args.vault.exists() and any(args.vault.iterdir()):
        parser.error(f"{args.vault} is not empty: pass --existing to measure the vault in it, or name another directory")

    root = (args.vault or Path(tempfile.mkdtemp(prefix="lens-vault-"))).absolute()
    now = datetime.now().astimezone()
    print(f"\nLens vault load, {now:%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores {cpu_model(platform.processor() or 'unknown CPU')}; Python {platform.python_version()}, Linux {platform.release()}")
    try:
        if args.existing:
            print(f"vault: {root} (already on disk)")
        else:
            generated = generate_vault(
                root, modules=args.modules, lenses=args.lenses, outcomes=args.outcomes, articles=args.articles,
                videos=args.videos, courses=args.courses, seed=args.seed,
            )
            kept = "kept" if args.vault else "a temporary directory, removed at the end"
            print(f"vault: {root} ({kept}); generated in {generated.seconds:.1f} s with seed {args.seed}")
        usage = disk_usage(root)
        counts = ", ".join(f"{count:,} {name}" for name, count in usage.files.items())
        print(f"files: {usage.total_files:,}, {usage.total_bytes / 1e6:.1f} MB on disk; Markdown by folder: {counts}; {usage.timestamps} .timestamps.json")
        print(f"fingerprint() reads {usage.hashed_files:,} files, {usage.hashed_bytes / 1e6:.1f} MB (the .md and .json)")

        if args.quiet_wait_s:
            wait_for_quiet_machine(patience_s=args.quiet_wait_s)
        machine_start, own_start = machine_cpu(), os.times()
        cold, warm, hashing, hashing_cold, stating = Samples(), Samples(), Samples(), Samples(), Samples()
        loaded = None
        for _ in range(args.repeat):
            evict(root)
            loaded = cold.run(load_vault, root)
            del loaded
            loaded = warm.run(load_vault, root)
            hashing.run(fingerprint, root)
            stating.run(file_signature, root)
            evict(root)
            hashing_cold.run(fingerprint, root)
        machine_end, own_end = machine_cpu(), os.times()
        print(f"loaded: {loaded.summary}\n")
        print("| measurement | runs | median | min – max | CPU median |\n|---|---:|---:|---:|---:|")
        print(row("load_vault, cold (the vault's files evicted from the page cache first)", cold))
        print(row("load_vault, warm (run again at once)", warm))
        print(row("file_signature(): the store's check every 2 s while no file changed for 2 s", stating))
        print(row("fingerprint(), warm: the check after a change (it hashes the bytes)", hashing))
        print(row("fingerprint(), cold", hashing_cold))
        share = statistics.median(stating.wall) / 2.0
        print(f"\nA worker that is asked for pages all the time checks the files for {share:.1%} of its time (one check per 2 s);"
              " a change costs that check a fingerprint and a warm load.")
        own_cpu = (own_end.user - own_start.user) + (own_end.system - own_start.system)
        capacity = machine_end[1] - machine_start[1]
        others = max(0.0, (machine_end[0] - machine_start[0]) - own_cpu) / capacity if capacity else 0.0
        print(f"Other processes used {others:.0%} of the machine's CPU while these ran (1 core of {os.cpu_count()} is {1 / os.cpu_count():.0%}).")

        peak, kept_mb = traced_load(root)
        before_rss, after_rss = fresh_process_rss(root)
        print("\n| memory of one load | MB |\n|---|---:|")
        print(f"| peak Python allocations during load_vault (tracemalloc) | {peak:.0f} |")
        print(f"| kept by the VaultLoad it returns (tracemalloc, after the load) | {kept_mb:.0f} |")
        print(f"| peak RSS of a fresh process: after importing the loader | {before_rss:.0f} |")
        print(f"| peak RSS of a fresh process: after one load | {after_rss:.0f} |")

        if args.profile:
            profile(root, args.profile)

        failed = bool(loaded.errors)
        if loaded.errors:
            print(f"\n{len(loaded.errors)} errors, the first: {loaded.errors[0]}")
        if args.target_s:
            missed = statistics.median(cold.wall) >= args.target_s
            failed |= missed
            verdict = "missed" if missed else "met"
            print(f"\ntarget: the cold load's median under {args.target_s:g} s: {verdict} ({seconds(statistics.median(cold.wall))}; warm {seconds(statistics.median(warm.wall))})")
        return 1 if failed else 0
    finally:
        if args.vault is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
