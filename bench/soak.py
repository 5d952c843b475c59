"""Soak test: a mixed load on gunicorn + PostgreSQL, then an exact check of the database against
what the clients sent and were told.

The load, from one asyncio process (httpx) with bounded concurrency, for --duration seconds
(default 300) with --learners learners (default 10,000) arriving over the first three quarters:

- readers: 1-3 tabs, each on a lens (tabs in one module on different lenses), a heartbeat every
  30 s per tab; they move on to the next lens now and then, completing the one they leave, and
  view each lens page they open. A learner is active in one tab at a time, so a reader with k tabs
  in a module sends from each of them every k x 30 s (deltas of 30 s, sometimes fewer).
- duplicates: the same lens open in 2-3 tabs, each sending 30 s every 30 s, sometimes bigger or
  odd values, and now and then an invalid one (0, over TRACKER_MAX_DELTA_S) that must get 422.
  Their seconds outrun the wall clock, so the per-row budget cuts them down.
- completers: work through modules lens by lens, send the tutor a message before completing a
  chat lens, and complete the last two required lenses of every LO at the same moment (two
  concurrent requests); the last LO's pair completes the module at that moment too.
- accounts: learners who sign up first and then read; claimers, who read anonymously and sign
  up mid-session (claiming their progress) while their tabs keep sending heartbeats.
- an admin, logged in through the login form, reading the dashboard pages.
- half-way through, a lens title is edited in the content directory; every instance's /readyz
  must report the new content fingerprint, and lens pages must then show the new title.

Every response is recorded. At the end the database must match exactly:

- lens rows: total_time_spent_s is the sum of X-Credited-Seconds of the heartbeats that named the
  lens. X-Credited-Seconds is the lens row's credit; the LO and module rows have budgets of their
  own. An LO or module row whose heartbeats all named one lens, and that lens only ever with this
  LO and module, went through the same sequence of budget updates as the lens row, so it must hold
  the same sum. Any other LO or module row (a reader moving between lenses) must hold the sum of
  the requested seconds, when the client's own send and receive times prove that the row's budget
  was never reached; a row for which neither holds cannot be checked exactly and fails the run.
- every LO and module whose required lenses are all complete is complete, and none is complete
  before its lenses; every acknowledged completion is stored.
- no two rows for one (learner, content); zero 5xx, zero transport errors, no unexpected status.
- nothing stays under a claimer's token: heartbeats in flight while it signed up land in the
  account, at the latest with its next page.

Run it against a gunicorn it starts itself, on a database of its own (dropped and recreated):

    .venv/bin/python bench/soak.py                       # 5 minutes, 10,000 learners
    .venv/bin/python bench/soak.py --duration 30 --learners 1000 --json soak.json

or against a running setup (scripts/two-instances: two instances behind nginx), giving the
database and content directory it uses and the instances to ask for /readyz:

    .venv/bin/python bench/soak.py --target http://127.0.0.1:8080 \\
        --instance http://127.0.0.1:8001 --instance http://127.0.0.1:8002 \\
        --database-url postgresql://postgres@127.0.0.1:5432/tracker_soak --content-dir RUN/content

Every request comes from 127.0.0.1, so the per-address rate limits must be raised on a target for
the load not to be limited (SOAK_RATE_LIMITS below; a gunicorn started here gets them). The
per-learner limits keep their defaults: no soak learner comes near them, and any 429 fails the run.
The exit status is 1 when any check failed.
"""
import argparse
import asyncio
import bisect
import contextlib
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tracker itself, whether or not it is installed in the venv

from tracker.config import DEMO_CONTENT_DIR  # noqa: E402
from tracker.content import load_content  # noqa: E402

VENV_BIN = Path(sys.executable).parent
HEARTBEAT = "/api/progress/time"
COMPLETE = "/api/progress/complete"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ADMIN = ("soak-admin@example.org", "soak admin password")
EDITED_LENS = ("spacing-and-interleaving", "the-spacing-effect")  # (module slug, lens name) whose title changes

# The per-address limits, raised: all soak traffic comes from one address. Per-learner limits stay.
SOAK_RATE_LIMITS = {
    "TRACKER_RATELIMIT_HEARTBEAT_PER_IP": "1000000/minute",
    "TRACKER_RATELIMIT_COMPLETION_PER_IP": "1000000/minute",
    "TRACKER_RATELIMIT_CHAT_PER_IP": "1000000/minute",
    "TRACKER_RATELIMIT_SIGNUP_PER_IP": "1000000/hour",
}

# Duplicated tabs: mostly 30 s, sometimes bigger or odd values, all within TRACKER_MAX_DELTA_S.
DUPLICATE_DELTAS = (30,) * 20 + (1, 7, 45, 59, 60, 90, 119, 120)


def reader_deltas(interval_s: float) -> tuple[int, ...]:
    """A reader's tab reports at most the seconds since its last heartbeat, often a little less."""
    full = max(1, int(interval_s))
    return (full,) * 8 + (1, max(1, full // 6), max(1, full * 3 // 5), max(1, full - 1))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--learners", type=int, default=10_000, help="learners (default 10000)")
    parser.add_argument("--accounts", type=int, default=None,
                        help="learners who sign up: half at once, half mid-session (default learners/200, 2..60)")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between a tab's heartbeats (default 30)")
    parser.add_argument("--concurrency", type=int, default=96, help="requests in flight at most (default 96)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument("--target", help="base URL of a running setup; without it, start gunicorn here")
    parser.add_argument("--instance", action="append", default=[],
                        help="an instance's own base URL, for /readyz (repeat; default: the target or our gunicorn)")
    parser.add_argument("--database-url", help="the target's database (required with --target)")
    parser.add_argument("--content-dir", help="the target's TRACKER_CONTENT_DIR, edited half-way (with --target)")
    parser.add_argument("--no-content-edit", action="store_true", help="skip the content edit and reload check")
    parser.add_argument("--content-check-s", type=float, default=2.0, help="the servers' TRACKER_CONTENT_CHECK_S")
    parser.add_argument("--worker-pids-from", default="",
                        help="gunicorn master pids (or pid files), comma-separated; default: found from --instance ports")
    parser.add_argument("--max-delta", type=int, default=120, help="the servers' TRACKER_MAX_DELTA_S (default 120)")
    parser.add_argument("--burst", type=int, default=120, help="the servers' TRACKER_BURST_S (default 120)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="PostgreSQL server for our own database (without --target)")
    parser.add_argument("--database", default="tracker_soak", help="our own database, dropped and recreated")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers we start (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker we start (GUNICORN_THREADS)")
    parser.add_argument("--json", help="write the summary here as JSON")
    args = parser.parse_args(argv)
    if args.target and not args.database_url:
        parser.error("--target needs --database-url, the database the target writes to")
    if args.target and not (args.content_dir or args.no_content_edit):
        parser.error("--target needs --content-dir (the target's TRACKER_CONTENT_DIR) or --no-content-edit")
    if args.accounts is None:
        args.accounts = max(2, min(60, args.learners // 200))
    args.seed = args.seed if args.seed is not None else random.randrange(2**32)
    return args


# ---------------------------------------------------------------- the content


@dataclass(frozen=True)
class Spot:
    """A lens where a module places it: what a heartbeat names and a lens page shows."""

    module_slug: str
    module_id: str
    lo_id: str
    lens_id: str
    lens_name: str
    lens_type: str
    optional: bool


@dataclass(frozen=True)
class Plan:
    index: object
    spots: dict  # module slug -> [Spot] in course order
    slugs: tuple

    @classmethod
    def load(cls, directory) -> "Plan":
        index = load_content(Path(directory))
        spots = {
            m.slug: [
                Spot(m.slug, str(m.id), str(s.outcome.id), str(s.lens.id), s.lens.name, s.lens.type, s.optional)
                for s in m.sections
            ]
            for m in index.modules
        }
        return cls(index, spots, tuple(spots))

    def required_by_outcome(self, slug: str) -> list[list[Spot]]:
        outcomes = {}
        for spot in self.spots[slug]:
            if not spot.optional:
                outcomes.setdefault(spot.lo_id, []).append(spot)
        return list(outcomes.values())


# ---------------------------------------------------------------- learners and what they were told


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


class Load:
    """The shared client, the concurrency gate and the ledger every request goes into."""

    def __init__(self, args, plan: Plan, base_url: str, start: float):
        self.args, self.plan, self.start = args, plan, start
        self.deadline = start + args.duration
        self.gate = asyncio.Semaphore(args.concurrency)
        self.ledger = Ledger()
        limits = httpx.Limits(
            max_connections=args.concurrency, max_keepalive_connections=args.concurrency,
            keepalive_expiry=2.0,  # below gunicorn's keepalive (5 s): we drop an idle connection first
        )
        self.client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(60.0, connect=10.0))
        # One client carries many learners: cookies travel only where a request names them.
        self.client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def running(self, margin: float = 0.0) -> bool:
        return time.monotonic() + margin < self.deadline

    async def sleep_until(self, moment: float) -> bool:
        """Sleep until `moment`; False when that is past the end of the run."""
        if moment >= self.deadline:
            return False
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
        return True

    async def send(self, kind: str, method: str, url: str, expect=(200,), gated: bool = True, **kwargs):
        """One request, recorded; None when its outcome is unknown (a transport error).

        Learners' requests queue at the concurrency gate; probes (gated=False) do not, so that
        what they observe is the servers, not the load generator's own queue.
        """
        async with self.gate if gated else contextlib.nullcontext():
            sent = time.monotonic()
            try:
                response = await self.client.request(method, url, **kwargs)
            except httpx.HTTPError as error:
                received = time.monotonic()
                self.ledger.requests.append((kind, None, sent, received))
                self.ledger.problem(f"transport error: {type(error).__name__}", kind=kind, method=method, url=url,
                                    error=str(error), at_s=round(sent - self.start, 3))
                return None
        received = time.monotonic()
        self.ledger.requests.append((kind, response.status_code, sent, received))
        response.sent, response.received = sent, received
        if response.status_code not in expect:
            self.ledger.problem(
                f"{kind}: status {response.status_code}", kind=kind, method=method, url=url,
                body=str(kwargs.get("json") or kwargs.get("data") or kwargs.get("content") or "")[:300],
                status=response.status_code, response=response.text[:300],
                request_id=response.headers.get("x-request-id"), at_s=round(sent - self.start, 3),
            )
        return response

    # ------------------------------------------------------------ what learners do

    async def page(self, person: Person, path: str):
        response = await self.send("page", "GET", path, headers=person.cookie_header())
        if response is not None and person.token is None:  # a new visitor: the page hands out a token
            cookie = set_cookie(response, "tracker_anon")
            if cookie:
                person.token = cookie
        return response

    async def heartbeat(self, person: Person, spot: Spot, delta: int, valid: bool = True) -> None:
        body = {"content_id": spot.lens_id, "time_delta_s": delta, "lo_id": spot.lo_id, "module_id": spot.module_id}
        anonymous = person.session is None
        shape = random.random()
        if shape < 0.1:  # navigator.sendBeacon: raw JSON as text/plain, the token in the query string
            params = {"anonymous_token": person.token} if anonymous else {}
            request = {"content": json.dumps(body), "headers": {"Content-Type": "text/plain", **person_cookie(person)},
                       "params": params}
        elif shape < 0.2:  # htmx: form-encoded
            request = {"data": {k: str(v) for k, v in body.items()}, "headers": identity_headers(person)}
        else:
            request = {"json": body, "headers": identity_headers(person)}
        response = await self.send("heartbeat", "POST", HEARTBEAT, expect=(204,) if valid else (422,), **request)
        if response is None or response.status_code != 204:
            return
        credited = response.headers.get("x-credited-seconds")
        if credited is None or not credited.isdigit():
            self.ledger.problem("heartbeat: 204 without X-Credited-Seconds", body=body)
            return
        self.ledger.beats.append(Beat(person, spot.lens_id, spot.lo_id, spot.module_id, delta, int(credited),
                                      response.sent, response.received, anonymous))

    async def complete(self, person: Person, spot: Spot) -> None:
        body = {"content_id": spot.lens_id, "content_type": "lens", "module_slug": spot.module_slug}
        response = await self.send("completion", "POST", COMPLETE, json=body, headers=identity_headers(person))
        if response is not None and response.status_code == 200:
            self.ledger.completions.append((person, spot.lens_id))

    async def chat(self, person: Person, spot: Spot) -> None:
        url = f"/api/modules/{spot.module_slug}/{spot.lens_name}/chat"
        body = {"message": f"Could you sum up {spot.lens_name.replace('-', ' ')} in two sentences?"}
        response = await self.send("chat", "POST", url, json=body, headers=identity_headers(person))
        if response is not None and response.status_code == 200 and "event: done" not in response.text:
            self.ledger.problem("chat: the answer's stream did not end with a done event", url=url,
                                response=response.text[-300:])

    async def sign_up(self, person: Person) -> bool:
        """The signup form, with the browser's anonymous cookie when it has one (which claims its progress)."""
        response = await self.send("signup", "GET", "/signup", headers=person_cookie(person, anonymous=True))
        if response is None or response.status_code != 200:
            return False
        session, token = set_cookie(response, "session"), CSRF_FIELD.search(response.text)
        person.email = f"soak-{self.args.seed}-{person.number}@example.org"
        form = {"csrf_token": token.group(1) if token else "", "email": person.email,
                "password": "soak password " + str(person.number), "display_name": f"Soak learner {person.number}"}
        cookies = [f"session={session}"] + ([f"tracker_anon={person.token}"] if person.token else [])
        person.signup_started = time.monotonic()
        response = await self.send("signup", "POST", "/signup", expect=(303,), data=form,
                                   headers={"Cookie": "; ".join(cookies)})
        session = response is not None and response.status_code == 303 and set_cookie(response, "session")
        if session:
            person.session = session
        return bool(session)


def set_cookie(response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key.strip() == name:
            value = rest.split(";", 1)[0]
            return value or None
    return None


def person_cookie(person: Person, anonymous: bool = False) -> dict:
    if anonymous:
        return {"Cookie": f"tracker_anon={person.token}"} if person.token else {}
    return person.cookie_header()


def identity_headers(person: Person) -> dict:
    """How the page's scripts say who the learner is: the session cookie, else the token header."""
    if person.session:
        return person.cookie_header()
    return {"X-Anonymous-Token": person.token}


# ---------------------------------------------------------------- behaviours


async def tab(load: Load, person: Person, spots: list[Spot], position: int, spacing: float, deltas, *,
              first_at: float, moves: bool, invalid_share: float = 0.0) -> None:
    """One browser tab: opens a lens page, then sends a heartbeat every `spacing` seconds after the last answer.

    A reader's tab moves on to the next lens now and then, completing the one it leaves.
    """
    spot = spots[position]
    if not await load.sleep_until(first_at):
        return
    await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")
    next_at = time.monotonic() + random.uniform(0.2, 1.0) * spacing
    while await load.sleep_until(next_at):
        if invalid_share and random.random() < invalid_share:
            await load.heartbeat(person, spot, random.choice((0, load.args.max_delta + 1, 100_000, -5)), valid=False)
        else:
            await load.heartbeat(person, spot, random.choice(deltas))
        # Spacing counts from the answer: the tab's heartbeats never overlap, whatever the server's pace.
        next_at = time.monotonic() + spacing * random.uniform(1.0, 1.15)
        if moves and random.random() < 0.2 and load.running(margin=2):
            if spot.lens_type != "chat" and random.random() < 0.5:
                await load.complete(person, spot)
            position = (position + 1) % len(spots)
            spot = spots[position]
            await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")


async def reader(load: Load, person: Person, start_at: float) -> None:
    interval = load.args.interval
    slugs = [random.choice(load.plan.slugs) for _ in range(random.choices((1, 2, 3), (6, 3, 1))[0])]
    per_module = Counter(slugs)
    tabs, opened = [], defaultdict(list)
    for slug in slugs:
        spots = load.plan.spots[slug]
        free = [i for i in range(len(spots)) if i not in opened[slug]]
        position = random.choice(free)
        opened[slug].append(position)
        # One learner is active in one tab at a time: k tabs in a module share its wall clock.
        tabs.append(tab(load, person, spots, position, interval * per_module[slug], reader_deltas(interval),
                        first_at=start_at + random.uniform(0, 3), moves=True))
    await asyncio.gather(*tabs)


async def duplicate(load: Load, person: Person, start_at: float) -> None:
    spots = load.plan.spots[random.choice(load.plan.slugs)]
    position = random.randrange(len(spots))
    copies = random.choice((2, 2, 3))
    await asyncio.gather(*(
        tab(load, person, spots, position, load.args.interval * random.uniform(0.85, 1.0), DUPLICATE_DELTAS,
            first_at=start_at + random.uniform(0, 3), moves=False, invalid_share=0.03)
        for _ in range(copies)
    ))


async def completer(load: Load, person: Person, start_at: float) -> None:
    """Complete lenses module by module; the last two required lenses of each LO at the same moment."""
    slugs = list(load.plan.slugs)
    if random.random() < 0.3:
        random.shuffle(slugs)  # some learners skip around the course
    slugs = slugs[: random.choice((1, 1, 2, 3))]
    if not await load.sleep_until(start_at):
        return
    for slug in slugs:
        await load.page(person, f"/modules/{slug}")
        for required in load.plan.required_by_outcome(slug):
            for spot in required:
                if spot.lens_type == "chat":  # a required chat lens completes only after a message
                    if not load.running(margin=5):
                        return
                    await load.chat(person, spot)
            *first, before_last, last = [None, *required] if len(required) == 1 else required
            for spot in first:
                if not await load.sleep_until(time.monotonic() + random.uniform(4, 16)):
                    return
                await load.complete(person, spot)
            if not await load.sleep_until(time.monotonic() + random.uniform(4, 16)):
                return
            await asyncio.gather(*(load.complete(person, spot) for spot in (before_last, last) if spot))


async def account_reader(load: Load, person: Person, start_at: float) -> None:
    if not await load.sleep_until(start_at):
        return
    if await load.sign_up(person):
        await reader(load, person, time.monotonic())


async def claimer(load: Load, person: Person, start_at: float) -> None:
    """Reads anonymously with a cookie, then signs up while its tabs keep sending heartbeats.

    The sign-up moves the token's rows into the account; heartbeats in flight meanwhile must
    land either in what is moved or after it, never in between.
    """
    spots = load.plan.spots[random.choice(load.plan.slugs)]
    position = random.randrange(len(spots))
    spot = spots[position]
    if not await load.sleep_until(start_at):
        return
    await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")  # hands out the token
    if person.token is None:
        load.ledger.problem("claimer: the first page set no tracker_anon cookie")
        return
    spacing = load.args.interval * 0.9
    tabs = [
        asyncio.create_task(tab(load, person, spots, position, spacing, (30,), first_at=time.monotonic(), moves=False))
        for _ in range(2)
    ]
    signup_at = time.monotonic() + random.uniform(1.5, 3.5) * load.args.interval
    if await load.sleep_until(signup_at) and load.running(margin=10):
        signup = asyncio.create_task(load.sign_up(person))
        extra = [asyncio.create_task(delayed_heartbeat(load, person, spot, delay)) for delay in (0.02, 0.06, 0.1, 0.15)]
        signed_up, *_ = await asyncio.gather(signup, *extra)
        if signed_up:
            await load.page(person, "/me")  # where the sign-up's 303 leads
    await asyncio.gather(*tabs)
    if person.session:  # back another day: the page moves what landed under the token since the login
        await load.page(person, f"/modules/{spot.module_slug}/{spot.lens_name}")


async def delayed_heartbeat(load: Load, person: Person, spot: Spot, delay: float) -> None:
    await asyncio.sleep(delay)
    await load.heartbeat(person, spot, 5)


BEHAVIOURS = {"reader": reader, "duplicate": duplicate, "completer": completer,
              "account": account_reader, "claimer": claimer}


def make_people(args) -> list[Person]:
    people = []
    accounts = args.accounts
    for number in range(args.learners):
        if number < accounts // 2:
            kind = "account"
        elif number < accounts:
            kind = "claimer"
        else:
            kind = random.choices(("reader", "duplicate", "completer"), (55, 30, 15))[0]
        token = None if kind in ("account", "claimer") else str(uuid.uuid4())
        people.append(Person(number, kind, token))
    return people


async def admin_reader(load: Load, pause_s: float = 1.0) -> None:
    """An admin logged in through the form, reading dashboard pages one after another."""
    response = await load.send("admin", "GET", "/login")
    if response is None or response.status_code != 200:
        return
    session, token = set_cookie(response, "session"), CSRF_FIELD.search(response.text)
    form = {"csrf_token": token.group(1) if token else "", "email": ADMIN[0], "password": ADMIN[1]}
    response = await load.send("admin", "POST", "/login", expect=(303,), data=form,
                               headers={"Cookie": f"session={session}"})
    session = response is not None and set_cookie(response, "session")
    if not session:
        load.ledger.problem("admin: could not log in")
        return
    headers = {"Cookie": f"session={session}"}
    pages = ["/admin/", "/admin/insights", *(f"/admin/modules/{slug}" for slug in load.plan.slugs),
             "/admin/learners", "/admin/learners?sort=time", "/admin/learners?sort=modules&dir=asc",
             "/admin/learners?q=soak", "/admin/exports/modules.csv"]
    turn = 0
    while load.running(margin=pause_s):
        path = pages[turn % len(pages)]
        extra = {"HX-Request": "true"} if turn % (2 * len(pages)) == 0 else {}
        response = await load.send("admin", "GET", path, headers={**headers, **extra})
        if response is not None and path == "/admin/learners" and response.status_code == 200:
            found = re.search(r'href="(/admin/learners/(?:anonymous/)?\d+)"', response.text)
            if found and found.group(1) not in pages:
                pages.append(found.group(1))
        turn += 1
        await asyncio.sleep(pause_s)


# ---------------------------------------------------------------- the content edit and reload check


async def readyz(load: Load, instance: str) -> str | None:
    response = await load.send("readyz", "GET", f"{instance.rstrip('/')}/readyz", gated=False)
    if response is None or response.status_code != 200:
        return None
    return response.json().get("content", {}).get("fingerprint")


def edit_lens_title(content_dir: Path, lens_name: str, stamp: str) -> str:
    """Change the lens's title in its file, replacing the file atomically as a deploy would."""
    path = content_dir / "lenses" / f"{lens_name}.md"
    text = path.read_text()
    old = re.search(r'^title: *"?([^"\n]*)"?$', text, re.MULTILINE)
    title = f"{old.group(1).split(', revised')[0]}, revised {stamp}"
    staged = path.with_name(f".{path.name}.soak")
    staged.write_text(text[: old.start()] + f'title: "{title}"' + text[old.end():])
    os.replace(staged, path)
    return title


async def content_reload(load: Load, instances: list[str], content_dir: Path, report: dict) -> None:
    """Half-way through: edit a lens title, then every instance must serve the new content."""
    report["problems"] = ["the edit was not made: the run ended first"]
    if not await load.sleep_until(load.start + load.args.duration * 0.45):
        return
    report["problems"] = []
    before = {instance: await readyz(load, instance) for instance in instances}
    report["fingerprint_before"] = before
    if len(set(before.values())) != 1 or None in before.values():
        report["problems"].append("the instances do not report one fingerprint before the edit")
    edited_at = time.monotonic()
    title = edit_lens_title(content_dir, EDITED_LENS[1], str(int(time.time())))
    report["new_title"] = title
    limit = load.args.content_check_s + 20
    reloaded = {}
    while len(reloaded) < len(instances) and time.monotonic() - edited_at < limit:
        for instance in (i for i in instances if i not in reloaded):
            seen = await readyz(load, instance)
            if seen and seen != before[instance]:
                reloaded[instance] = round(time.monotonic() - edited_at, 2)
        await asyncio.sleep(0.25)
    report["seconds_to_reload"] = reloaded
    # Each worker looks for new files on its own next request after TRACKER_CONTENT_CHECK_S; by
    # then every worker has had many, so every answer from here on must come from the new content.
    await asyncio.sleep(max(0.0, edited_at + load.args.content_check_s + 1 - time.monotonic()))
    after = {instance: {await readyz(load, instance) for _ in range(10)} for instance in instances}
    report["fingerprint_after"] = {instance: sorted(str(f) for f in seen) for instance, seen in after.items()}
    news = set().union(*after.values())
    if len(reloaded) != len(instances) or len(news) != 1 or news & set(before.values()):
        report["problems"].append("not every instance reports one new fingerprint")
    stale = served = 0
    for _ in range(20):
        response = await load.send("page", "GET", f"/modules/{EDITED_LENS[0]}/{EDITED_LENS[1]}")
        if response is not None and response.status_code == 200:
            served += 1
            stale += title not in response.text
        await asyncio.sleep(0.2)
    report["pages_after_reload"] = {"served": served, "stale": stale}
    if stale or not served:
        report["problems"].append("a lens page still showed the old title after the reload")


# ---------------------------------------------------------------- gunicorn workers' memory


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def status_kb(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def listening_pids(port: int) -> list[int]:
    """Processes holding the listening socket of a local TCP port: a gunicorn master and its workers."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(parts[9])
    holders = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    holders.add(int(entry.name))
                    break
        except OSError:
            continue
    return sorted(holders)


def gunicorn_masters(args, own_master: int | None, instances: list[str]) -> dict[str, int]:
    if own_master:
        return {"gunicorn": own_master}
    masters = {}
    if args.worker_pids_from:
        for item in args.worker_pids_from.split(","):
            item = item.strip()
            pid = int(Path(item).read_text().strip()) if not item.isdigit() else int(item)
            masters[f"pid {pid}"] = pid
        return masters
    for instance in instances:
        port = urlsplit(instance).port
        holders = listening_pids(port) if port else []
        ppids = {pid: ppid_of(pid) for pid in holders}
        for pid, ppid in ppids.items():
            if ppid not in ppids:
                masters[instance] = pid
    return masters


def ppid_of(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        return int(raw[raw.rindex(")") + 2:].split()[1])
    except (OSError, ValueError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, summed over its cores."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


def processes_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class WorkerWatch:
    """Peak memory (VmHWM) of every worker of each master, sampled until the end: workers are
    recycled after gunicorn's max_requests, and a recycled worker's peak is read before it goes.
    Also where the machine's CPU went: the load generator, the workers, PostgreSQL and nginx."""

    def __init__(self, masters: dict[str, int]):
        self.masters = masters
        self.peaks: dict[str, dict[int, int]] = {name: {} for name in masters}
        self.connections_peak = 0
        self.cpu_start: dict[tuple[str, int], float] = {}
        self.cpu_latest: dict[tuple[str, int], float] = {}
        self.machine_start = machine_cpu_seconds()
        self.sample_cpu(self.cpu_start)

    def cpu_groups(self) -> dict[str, list[int]]:
        return {
            "load generator (this process)": [os.getpid()],
            "app (gunicorn workers)": [pid for master in self.masters.values() for pid in children_of(master)],
            "PostgreSQL": processes_named("postgres"),
            "nginx": processes_named("nginx"),
        }

    def sample_cpu(self, into: dict) -> None:
        for group, pids in self.cpu_groups().items():
            for pid in pids:
                seconds = cpu_seconds(pid)
                if seconds is not None:
                    into[group, pid] = seconds

    def sample(self) -> None:
        for name, master in self.masters.items():
            for pid in children_of(master):
                hwm = status_kb(pid, "VmHWM")
                if hwm is not None:
                    self.peaks[name][pid] = max(hwm, self.peaks[name].get(pid, 0))
        self.sample_cpu(self.cpu_latest)

    def cpu_report(self) -> dict:
        """CPU seconds per group over the run, and each as a share of the machine's capacity."""
        busy_end, all_end = machine_cpu_seconds()
        capacity = all_end - self.machine_start[1]
        used = Counter()
        for (group, pid), seconds in self.cpu_latest.items():
            used[group] += seconds - self.cpu_start.get((group, pid), 0.0)
        report = {group: {"cpu_s": round(s, 1), "share_of_machine": round(s / capacity, 3)} for group, s in used.items()}
        busy = busy_end - self.machine_start[0]
        report["whole machine busy"] = {"cpu_s": round(busy, 1), "share_of_machine": round(busy / capacity, 3)}
        return report

    async def run(self, load: Load, database_url: str) -> None:
        while load.running():
            self.sample()
            self.connections_peak = max(self.connections_peak, await asyncio.to_thread(connection_count, database_url))
            await asyncio.sleep(1.0)
        self.sample()

    def report(self) -> dict:
        return {
            name: {"master": self.masters[name],
                   "workers": [{"pid": pid, "vmhwm_mb": round(kb / 1024, 1)} for pid, kb in sorted(peaks.items())]}
            for name, peaks in self.peaks.items()
        }


def connection_count(database_url: str) -> int:
    try:
        with psycopg.connect(conninfo(database_url), connect_timeout=5) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
    except psycopg.Error:
        return 0


# ---------------------------------------------------------------- our own server


def conninfo(url: str) -> str:
    """A SQLAlchemy-style URL as libpq takes it."""
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask_command(database_url: str, *command: str, stdin: str | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "soak", "TRACKER_LOG_FORMAT": "text"}
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@contextmanager
def own_server(args):
    """A fresh database, migrated, and gunicorn on it with the production settings file."""
    url = f"{args.pg_url.rstrip('/')}/{args.database}"
    with psycopg.connect(f"{args.pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    flask_command(url, "db", "upgrade")
    run_dir = Path(tempfile.mkdtemp(prefix="tracker-soak-"))
    content_dir = run_dir / "content"
    shutil.copytree(DEMO_CONTENT_DIR, content_dir)
    port = free_port()
    env = {
        **os.environ, **SOAK_RATE_LIMITS,
        "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex, "HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.threads),
        "TRACKER_CONTENT_DIR": str(content_dir), "TRACKER_CONTENT_CHECK_S": str(int(args.content_check_s)),
        "TRACKER_OFFLINE_TUTOR_DELAY_MS": "0", "TRACKER_MAX_DELTA_S": str(args.max_delta),
        "TRACKER_BURST_S": str(args.burst), "TRACKER_RATELIMIT_KEY_PREFIX": f"soak-{uuid.uuid4().hex[:8]}",
    }
    log = open(run_dir / "gunicorn.log", "wb")
    server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server, args.workers)
        yield {"base": base, "instances": [base], "database_url": url, "content_dir": content_dir,
               "master": server.pid, "log": run_dir / "gunicorn.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def wait_ready(base: str, server: subprocess.Popen, workers: int, timeout_s: float = 60) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            ready = httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready and len(children_of(server.pid)) >= workers:
            return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


# ---------------------------------------------------------------- the run


async def run_load(args, plan: Plan, setup: dict, masters: dict[str, int]):
    """Drive the load; return the ledger, the content reload report, the memory watch, the seconds it took, the people."""
    random.seed(args.seed)
    people = make_people(args)
    start = time.monotonic()
    load = Load(args, plan, setup["base"], start)
    watch = WorkerWatch(masters)
    reload_report: dict = {}
    arrivals = sorted(random.uniform(0, args.duration * 0.75) for _ in people)
    tasks = [asyncio.create_task(BEHAVIOURS[p.kind](load, p, start + at)) for p, at in zip(people, arrivals)]
    tasks.append(asyncio.create_task(admin_reader(load)))
    if not args.no_content_edit:
        tasks.append(asyncio.create_task(content_reload(load, setup["instances"], Path(setup["content_dir"]),
                                                        reload_report)))
    watcher = asyncio.create_task(watch.run(load, setup["database_url"]))
    done, pending = await asyncio.wait(tasks, timeout=args.duration + 120)
    for task in pending:  # still waiting for an answer two minutes after the end: an unknown outcome
        task.cancel()
        load.ledger.problem("a learner's request was still unanswered two minutes after the end")
    for task in done:
        if task.exception():
            load.ledger.problem(f"soak bug: {type(task.exception()).__name__}: {task.exception()}")
    elapsed = time.monotonic() - start
    await watcher
    await load.client.aclose()
    return load.ledger, reload_report, watch, elapsed, people


# ---------------------------------------------------------------- the checks


def budget_never_reached(beats: list[Beat], burst_s: int, margin_s: float = 1.0) -> bool:
    """Whether no heartbeat on a row can have met the row's budget, judged from client-side times.

    The budget is a leaky bucket: with every credit equal to the seconds asked for, heartbeat m
    (in the order the database applied them) is credited in full exactly when, for every earlier
    j, the seconds asked from j to m come to at most t_m - t_j + burst. The server's t lies
    between our send and receive times, and the database may apply overlapping requests in
    either order, so each sum is taken over every heartbeat that could fall between the two.
    """
    asks = [min(b.delta, burst_s) for b in sorted(beats, key=lambda b: b.sent)]
    if sum(asks) <= burst_s - margin_s:
        return True
    ordered = sorted(beats, key=lambda b: b.sent)
    sends = [b.sent for b in ordered]
    longest = max(b.received - b.sent for b in ordered)
    prefix = [0, *accumulate(asks)]
    for first in ordered:
        low = bisect.bisect_left(sends, first.sent - longest)  # could have been applied after `first`
        for last in ordered:
            if last.received < first.sent:
                continue  # answered before `first` was sent: applied before it
            high = bisect.bisect_right(sends, last.received)
            if prefix[high] - prefix[low] > (last.sent - first.received) + burst_s - margin_s:
                return False
    return True


def expected_times(beats: list[Beat], lens_ids: set[str], burst_s: int):
    """(person, content id) -> the seconds its rows must hold, and how each was established."""
    by_person = defaultdict(list)
    for beat in beats:
        by_person[beat.person].append(beat)
    expected, methods, unverifiable = {}, Counter(), []
    for person, own in by_person.items():
        naming = defaultdict(list)
        for beat in own:
            for content in (beat.lens, beat.lo, beat.module):
                naming[content].append(beat)
        for content, named in naming.items():
            if content in lens_ids:
                expected[person, content] = sum(b.credited for b in named)
                methods["lens: X-Credited-Seconds"] += 1
                continue
            lenses = {b.lens for b in named}
            if len(lenses) == 1 and {id(b) for b in naming[next(iter(lenses))]} == {id(b) for b in named}:
                expected[person, content] = sum(b.credited for b in named)
                methods["LO/module: the same heartbeats as its one lens"] += 1
            elif budget_never_reached(named, burst_s):
                expected[person, content] = sum(min(b.delta, burst_s) for b in named)
                methods["LO/module: budget provably never reached"] += 1
            else:
                unverifiable.append((person, content))
    return expected, methods, unverifiable


def check_database(args, database_url: str, plan: Plan, ledger: Ledger, people: list[Person]) -> dict:
    with psycopg.connect(conninfo(database_url)) as conn:
        rows = conn.execute(
            "SELECT id, user_id, anonymous_token::text, content_id::text, content_type, content_title,"
            " total_time_spent_s, completed_at IS NOT NULL, time_to_complete_s FROM user_content_progress"
        ).fetchall()
        users = dict(conn.execute("SELECT email, id FROM users").fetchall())
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM user_content_progress GROUP BY user_id, anonymous_token, content_id"
            " HAVING count(*) > 1) AS d"
        ).fetchone()[0]
    owners = {}  # owner key -> person
    for person in people:
        if person.token:
            owners["anon", person.token] = person
        if person.email and person.email in users:
            owners["user", users[person.email]] = person
    by_owner = defaultdict(dict)  # owner -> content -> row
    by_person = defaultdict(lambda: defaultdict(list))
    for row in rows:
        owner = ("user", row[1]) if row[1] is not None else ("anon", row[2])
        by_owner[owner][row[3]] = row
        if owner in owners:
            by_person[owners[owner]][row[3]].append(row)

    lens_ids = {spot.lens_id for spots in plan.spots.values() for spot in spots}
    expected, methods, unverifiable = expected_times(ledger.beats, lens_ids, args.burst)
    unverifiable_keys = set(unverifiable)
    time_problems = []
    soak_people = {p for p in people if p.token or p.email}
    for person in soak_people:
        stored = by_person.get(person, {})
        for content in set(stored) | {c for (p, c) in expected if p is person}:
            want = expected.get((person, content), 0)
            have = sum(row[6] for row in stored.get(content, []))
            if (person, content) in unverifiable_keys:
                continue
            if want != have:
                time_problems.append(describe_time_problem(person, content, want, have, ledger, stored.get(content)))
    orphaned = sum(
        1 for person in soak_people if person.kind == "claimer" and person.email
        for content, found in by_person.get(person, {}).items() if any(r[1] is None for r in found)
    )

    completion_problems = completion_checks(plan, ledger, by_owner, owners)
    checks = {
        "time: every row holds exactly what its heartbeats were credited": {
            "passed": not time_problems and not unverifiable,
            "rows_checked": sum(methods.values()), "by_method": dict(methods),
            "mismatches": len(time_problems), "unverifiable": len(unverifiable),
            "samples": time_problems[:10]
            + [{"unverifiable": str(c), "learner": p.token or p.email} for p, c in unverifiable[:5]],
        },
        "claims: nothing a signed-up learner's token received stays behind": {
            "passed": orphaned == 0, "claimers_signed_up": sum(p.kind == "claimer" and bool(p.email) for p in people),
            "rows_left_with_the_token": orphaned,
        },
        "completion: LOs and modules complete exactly when their required lenses are": completion_problems,
        "rows: no two rows for one (learner, content)": {"passed": duplicates == 0, "duplicates": duplicates},
    }
    checks["database_figures"] = database_figures(database_url, rows, by_person)
    return checks


def describe_time_problem(person, content, want, have, ledger, rows) -> dict:
    beats = [b for b in ledger.beats if b.person is person and content in (b.lens, b.lo, b.module)]
    return {
        "learner": person.token, "email": person.email, "kind": person.kind, "content_id": content,
        "content_type": rows[0][4] if rows else None, "expected_s": want, "stored_s": have,
        "rows": [{"id": r[0], "user_id": r[1], "anonymous_token": r[2], "total_time_spent_s": r[6]} for r in rows or []],
        "heartbeats": [{"lens": b.lens, "delta": b.delta, "credited": b.credited, "anonymous": b.anonymous,
                        "sent_s": round(b.sent, 3), "received_s": round(b.received, 3)} for b in beats][:30],
        "signup_sent_s": round(person.signup_started, 3) if person.signup_started else None,
    }


def completion_checks(plan: Plan, ledger: Ledger, by_owner: dict, owners: dict) -> dict:
    problems = []
    owner_of = {person: key for key, person in owners.items()}
    for person, lens_id in ledger.completions:
        row = by_owner.get(owner_of.get(person), {}).get(lens_id)
        if row is None or not row[7]:
            problems.append({"problem": "acknowledged completion not stored", "learner": person.token, "lens": lens_id})
    checked = 0
    for owner in owners:
        stored = by_owner.get(owner, {})
        if not any(row[7] for row in stored.values()):
            continue
        done = {content for content, row in stored.items() if row[7]}
        for module in plan.index.modules:
            for item, required in [(o, o.required_lens_ids) for o in module.outcomes] + [(module, module.required_lens_ids)]:
                checked += 1
                all_done, complete = {str(i) for i in required} <= done, str(item.id) in done
                if all_done != complete:
                    problems.append({
                        "problem": "complete without its lenses" if complete else "lenses complete, LO/module not",
                        "owner": list(owner), "module": module.slug, "item": str(item.id),
                        "item_type": "module" if item is module else "lo", "title": item.title,
                        "required_done": sorted(str(i) for i in required if str(i) in done),
                        "required_missing": sorted(str(i) for i in required if str(i) not in done),
                    })
        for content, row in stored.items():
            if row[7] and (row[8] is None or row[8] > row[6]):
                problems.append({"problem": "time_to_complete_s missing or above the total", "row": row[0]})
    kinds = Counter(p["problem"] for p in problems)
    return {"passed": not problems, "completions_acknowledged": len(ledger.completions),
            "lo_and_module_states_checked": checked, "problems": dict(kinds), "samples": problems[:10]}


def database_figures(database_url: str, rows: list, by_person: dict) -> dict:
    """Sizes for capacity planning: rows per learner, bytes per row with and without indexes."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE user_content_progress")
        table, total, heap_row = conn.execute(
            "SELECT pg_relation_size('user_content_progress'), pg_total_relation_size('user_content_progress'),"
            " (SELECT avg(pg_column_size(p.*)) FROM user_content_progress p)"
        ).fetchone()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
            " WHERE indrelid = 'user_content_progress'::regclass ORDER BY 1"
        ).fetchall()
    count = len(rows) or 1
    learners = [len(contents) for contents in by_person.values() if contents]
    return {
        "rows": len(rows), "learners_with_rows": len(learners),
        "rows_per_learner_mean": round(sum(learners) / max(1, len(learners)), 2),
        "rows_per_learner_max": max(learners, default=0),
        "row_bytes_pg_column_size": round(float(heap_row or 0), 1),
        "table_bytes": table, "total_bytes_with_indexes": total,
        "table_bytes_per_row": round(table / count, 1), "total_bytes_per_row": round(total / count, 1),
        "indexes": {name: size for name, size in indexes},
    }


# ---------------------------------------------------------------- the summary


def percentile(ordered: list[float], share: float) -> float:
    """Nearest rank."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))]


def traffic(ledger: Ledger, elapsed: float) -> dict:
    by_kind = defaultdict(list)
    statuses = defaultdict(Counter)
    for kind, status, sent, received in ledger.requests:
        by_kind[kind].append((received - sent) * 1000)
        statuses[kind][str(status) if status is not None else "transport error"] += 1
    summary = {}
    for kind, latencies in sorted(by_kind.items()):
        latencies.sort()
        summary[kind] = {
            "requests": len(latencies), "per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "p99_9_ms": round(percentile(latencies, 0.999), 1), "max_ms": round(latencies[-1], 1),
            "statuses": dict(statuses[kind]),
        }
    total = sum(len(v) for v in by_kind.values())
    summary["all"] = {"requests": total, "per_s": round(total / elapsed, 1)}
    return summary


def request_checks(ledger: Ledger, traffic_summary: dict) -> dict:
    server_errors = sum(n for kind, t in traffic_summary.items() if kind != "all"
                        for status, n in t["statuses"].items() if status.startswith("5"))
    transport = sum(t["statuses"].get("transport error", 0) for kind, t in traffic_summary.items() if kind != "all")
    return {
        "requests: zero 5xx": {"passed": server_errors == 0, "count": server_errors},
        "requests: zero transport errors (unknown outcomes)": {"passed": transport == 0, "count": transport},
        "requests: every answer as expected": {
            "passed": not ledger.problems, "problems": dict(ledger.problems), "samples": ledger.samples[:15],
        },
    }


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "kernel": platform.release()}


def print_summary(summary: dict) -> None:
    config = summary["config"]
    print(f"\nsoak: {config['learners']:,} learners ({', '.join(f'{n} {k}' for k, n in summary['people'].items())}),"
          f" {summary['elapsed_s']:.0f} s against {config['target']}; seed {config['seed']};"
          f" load average {summary['load_average_before']} before, {summary['load_average_after']} after")
    print("\n| requests | count | per s | p50 ms | p99 ms | p99.9 ms | max ms | statuses |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for kind, t in summary["traffic"].items():
        if kind == "all":
            continue
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(t["statuses"].items()))
        print(f"| {kind} | {t['requests']:,} | {t['per_s']} | {t['p50_ms']} | {t['p99_ms']} | {t['p99_9_ms']}"
              f" | {t['max_ms']} | {statuses} |")
    print(f"| all | {summary['traffic']['all']['requests']:,} | {summary['traffic']['all']['per_s']} | | | | | |")
    print("\ngunicorn workers, peak memory (VmHWM):")
    for name, info in summary["workers"].items():
        workers = ", ".join(f"{w['pid']}: {w['vmhwm_mb']} MB" for w in info["workers"])
        print(f"  {name} (master {info['master']}): {workers}")
    print(f"  PostgreSQL connections to the database, peak: {summary['postgres_connections_peak']}")
    print("\nCPU during the run (share of the machine's cores):")
    for group, used in summary["cpu"].items():
        print(f"  {group}: {used['cpu_s']} s, {used['share_of_machine']:.0%}")
    if summary.get("content_reload"):
        r = summary["content_reload"]
        print(f"\ncontent edit: {r.get('new_title')!r}; reloaded after {r.get('seconds_to_reload')} s;"
              f" pages after the reload: {r.get('pages_after_reload')}")
    figures = summary["checks"].get("database_figures", {})
    if figures:
        print(f"\ndatabase: {figures['rows']:,} rows, {figures['rows_per_learner_mean']} per learner"
              f" (max {figures['rows_per_learner_max']}); {figures['row_bytes_pg_column_size']} bytes per row"
              f" (pg_column_size), {figures['total_bytes_per_row']} bytes per row with indexes")
    print("\nchecks:")
    for name, check in summary["checks"].items():
        if name == "database_figures":
            continue
        detail = {k: v for k, v in check.items() if k not in ("passed", "samples")}
        print(f"  {'PASS' if check['passed'] else 'FAIL'}  {name}  {json.dumps(detail, default=str)}")
        if not check["passed"]:
            for sample in check.get("samples", [])[:5]:
                print(f"        {json.dumps(sample, default=str)[:1500]}")
    print(f"\n{'all checks passed' if summary['passed'] else 'CHECKS FAILED'}")


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = [round(x, 2) for x in os.getloadavg()]
    if args.target:
        setup = {"base": args.target, "instances": args.instance or [args.target],
                 "database_url": args.database_url, "content_dir": args.content_dir, "master": None}
        server = None
    else:
        server = own_server(args)
        setup = server.__enter__()
    try:
        flask_command(setup["database_url"], "tracker", "create-admin", ADMIN[0], stdin=ADMIN[1] + "\n")
        plan = Plan.load(setup["content_dir"] or DEMO_CONTENT_DIR)
        masters = gunicorn_masters(args, setup["master"], setup["instances"])
        ledger, reload_report, watch, elapsed, people = asyncio.run(run_load(args, plan, setup, masters))
        workers, cpu = watch.report(), watch.cpu_report()
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    people_counts = Counter(p.kind for p in people)
    traffic_summary = traffic(ledger, elapsed)
    checks = request_checks(ledger, traffic_summary)
    if not args.no_content_edit:
        checks["content: every instance reloaded the edited content"] = {
            "passed": not reload_report.get("problems"), **reload_report,
        }
    checks.update(check_database(args, setup["database_url"], plan, ledger, people))
    summary = {
        "config": {"learners": args.learners, "accounts": args.accounts, "duration_s": args.duration,
                   "interval_s": args.interval, "concurrency": args.concurrency, "seed": args.seed,
                   "target": args.target or f"gunicorn started here ({args.workers} workers x {args.threads} threads)",
                   "instances": setup["instances"], "rate_limits_raised": SOAK_RATE_LIMITS,
                   "max_delta_s": args.max_delta, "burst_s": args.burst},
        "machine": machine(), "people": dict(people_counts), "elapsed_s": round(elapsed, 1),
        "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "traffic": traffic_summary, "workers": workers, "postgres_connections_peak": watch.connections_peak,
        "cpu": cpu,
        "content_reload": reload_report or None, "checks": checks,
    }
    summary["passed"] = all(c["passed"] for name, c in checks.items() if name != "database_figures")
    print_summary(summary)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
