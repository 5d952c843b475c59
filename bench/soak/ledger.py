"""What the soak's clients sent and were told: the learners, their accepted heartbeats, every request."""
from collections import Counter
from dataclasses import dataclass, field


@dataclass(eq=False)
class Person:
    number: int
    kind: str
    token: str | None  # anonymous token; a claimer gets one from its first page
    email: str | None = None
    session: str | None = None  # the session cookie once signed up or logged in
    signup_started: float | None = None

    def cookie_header(self) -> dict:
        cookies = []
        if self.session:
            cookies.append(f"session={self.session}")
        elif self.token:
            cookies.append(f"tracker_anon={self.token}")
        return {"Cookie": "; ".join(cookies)} if cookies else {}


@dataclass
class Beat:
    """An accepted heartbeat: what it named, asked for and was credited, and when it was in flight."""

    person: Person
    lens: str
    lo: str
    module: str
    delta: int
    credited: int
    sent: float
    received: float
    anonymous: bool


@dataclass
class Ledger:
    requests: list = field(default_factory=list)  # (kind, status or None, sent, received)
    beats: list = field(default_factory=list)
    completions: list = field(default_factory=list)  # (person, lens id) acknowledged with 200
    problems: Counter = field(default_factory=Counter)  # what went wrong, by description
    samples: list = field(default_factory=list)  # the first few problems in full

    def problem(self, description: str, **details) -> None:
        self.problems[description] += 1
        if len(self.samples) < 40:
            self.samples.append({"problem": description, **details})
