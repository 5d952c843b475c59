"""Sending the outbox to the LRS: in batches, oldest first, each statement marked once the LRS has it. No Flask here.

What can happen to a batch, and what the worker does:
- the LRS accepts it (200, or 204 when it has every statement already): marked sent;
- the LRS refuses it as a request (400, 409, 413, 422: a statement it will not store): each
  statement is sent alone, in order; those it accepts are marked sent, those it refuses are set
  aside with its message (the admin's LRS page lists them) and the rest go on;
- anything else (the LRS down, 5xx, a timeout, 401/403/429: nothing wrong with the statements):
  nothing is marked, the attempt is counted, and the same batch is sent again after a pause that
  doubles each time (up to a cap). Nothing behind it is sent first, so no learner's statements
  arrive out of order.

A worker killed after the LRS stored a batch and before it was marked sends the batch again
next time; statement ids are deterministic, and an LRS stores a statement with an id it has
already once (xAPI 1.0.3, section 2.2: it answers 204, or ignores the duplicate in a batch).
"""
import base64
import json
import logging
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import text

from tracker.clock import utc_now
from tracker.database import Db

from .outbox import mark_failed, mark_sent, next_batch, set_aside

log = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
# Answers that mean "this request holds a statement I will not store", rather than "not now".
REFUSED = frozenset({400, 409, 413, 422})


@dataclass(frozen=True)
class LrsAnswer:
    status: int | None  # None: no answer at all (refused connection, timeout)
    message: str


@dataclass(frozen=True)
class LrsClient:
    """The LRS's statements resource, over HTTP with basic auth, as xAPI 1.0.3 asks."""

    endpoint: str  # the xAPI endpoint; statements are POSTed to <endpoint>statements
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 30

    def post(self, statements_json: list[str]) -> LrsAnswer:
        body = ("[" + ",".join(statements_json) + "]").encode()
        request = urllib.request.Request(
            self.endpoint.rstrip("/") + "/statements", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION},
        )
        if self.username:
            credentials = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {credentials}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return LrsAnswer(response.status, "")
        except urllib.error.HTTPError as error:
            return LrsAnswer(error.code, lrs_message(error))
        except (OSError, ValueError) as error:  # refused, reset, timed out, unresolvable
            return LrsAnswer(None, f"no answer from the LRS: {error}")


def lrs_message(error: urllib.error.HTTPError) -> str:
    """What the LRS said: its JSON `detail`/`message` if it gave one, else its text."""
    try:
        text = error.read(4000).decode(errors="replace")
    except OSError:
        text = ""
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            text = str(parsed.get("detail") or parsed.get("message") or parsed.get("error") or text)
    except ValueError:
        pass
    return f"HTTP {error.code}: {text.strip() or error.reason}"


@dataclass
class PushResult:
    sent: int = 0
    set_aside: int = 0
    failure: str | None = None  # why the worker must try again later, if it must


def push_batch(db: Db, client: LrsClient, size: int, now: Callable[[], datetime] = utc_now) -> PushResult:
    """Send the oldest queued statements once; say what became of them."""
    with db.transaction() as conn:
        rows = next_batch(conn, size)
    result = PushResult()
    if not rows:
        return result
    answer = client.post([row.statement for row in rows])
    if accepted(answer):
        with db.transaction() as conn:
            mark_sent(conn, [row.id for row in rows], now())
        result.sent = len(rows)
    elif answer.status in REFUSED:
        send_one_by_one(db, client, rows, result, now, answer if len(rows) == 1 else None)
    else:
        fail(db, rows, answer, result)
    return result


def accepted(answer: LrsAnswer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def send_one_by_one(db: Db, client: LrsClient, rows: list, result: PushResult, now, first_answer: LrsAnswer | None) -> None:
    """A refused batch: find the statements the LRS will not store, and send the others, still in order.

    `first_answer`: the LRS's answer to a batch of this one statement, which need not be sent again.
    """
    for position, row in enumerate(rows):
        answer = first_answer if position == 0 and first_answer else client.post([row.statement])
        if accepted(answer):
            with db.transaction() as conn:
                mark_sent(conn, [row.id], now())
            result.sent += 1
        elif answer.status in REFUSED:  # this statement itself: even alone, the LRS will not store it
            with db.transaction() as conn:
                set_aside(conn, row.id, answer.message, now())
            log.warning("the LRS refused statement %s; set aside: %s", row.statement_id, answer.message)
            result.set_aside += 1
        else:  # no verdict on this one: stop here, so nothing behind it goes first
            fail(db, rows[position:], answer, result)
            return


def fail(db: Db, rows: list, answer: LrsAnswer, result: PushResult) -> None:
    message = answer.message or f"HTTP {answer.status}"
    with db.transaction() as conn:
        mark_failed(conn, [row.id for row in rows], message)
    result.failure = message


def push_all(db: Db, client: LrsClient, size: int, now: Callable[[], datetime] = utc_now) -> PushResult:
    """Send batches until the queue is empty or the LRS fails; the totals, and the failure if any."""
    total = PushResult()
    while True:
        result = push_batch(db, client, size, now)
        total.sent += result.sent
        total.set_aside += result.set_aside
        if result.failure or (result.sent + result.set_aside) == 0:
            total.failure = result.failure
            return total


@dataclass
class Backoff:
    """Pauses after failures that double each time, from `first_s` up to `max_s`; a success starts over."""

    first_s: float = 1.0
    max_s: float = 300.0
    failures: int = 0

    def after_failure(self) -> float:
        self.failures += 1
        return min(self.max_s, self.first_s * 2 ** (self.failures - 1))

    def reset(self) -> None:
        self.failures = 0


def run_worker(
    db: Db,
    client: LrsClient,
    size: int,
    queue_progressed: Callable[[datetime], int],
    progress_pass_s: float,
    idle_s: float = 2.0,
    backoff: Backoff | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send what is queued, as it is queued, until `should_stop()`; queue `progressed` statements every so often."""
    backoff = backoff or Backoff()
    next_progress_pass = 0.0
    while not should_stop():
        if time.monotonic() >= next_progress_pass:
            queued = queue_progressed(utc_now())
            if queued:
                log.info("queued %d progressed statements", queued)
            next_progress_pass = time.monotonic() + progress_pass_s
        result = push_all(db, client, size)
        if result.sent or result.set_aside:
            log.info("sent %d statements to the LRS, set aside %d", result.sent, result.set_aside)
        if result.failure:
            pause = backoff.after_failure()
            log.warning("the LRS did not take the statements (%s); trying again in %.0f s", result.failure, pause)
            sleep(pause)
        else:
            backoff.reset()
            sleep(idle_s)


# One worker sends at a time (PostgreSQL): a second would send the same oldest batch as the first.
# Keyed by database and schema, so that two installations on one server each have their own.
TRY_WORKER_LOCK = text(
    "SELECT pg_try_advisory_lock(hashtextextended('tracker lrs-push ' || current_database() || '.' || current_schema(), 0))"
)


@contextmanager
def sole_worker(db: Db):
    """Yield whether this process is the only worker sending to the LRS, and stay so until the block ends.

    A session-level advisory lock on a connection of its own, so it lasts across the worker's
    transactions and goes with the process if it dies. SQLite serves one machine: no lock.
    """
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.autocommit_engine.connect() as conn:
        yield bool(conn.execute(TRY_WORKER_LOCK).scalar())
