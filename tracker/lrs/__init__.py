"""Sending xAPI statements to a Learning Record Store: the outbox a completion writes to, and the worker that empties it."""

from .outbox import outbox_report, queue_counts, rejected_statements, sent_statements
from .push import Backoff, LrsAnswer, LrsClient, PushResult, push_all, push_batch, run_worker, sole_worker
from .queue import queue_completions, queue_progressed

__all__ = [
    "Backoff", "LrsAnswer", "LrsClient", "PushResult", "outbox_report", "push_all", "push_batch", "queue_completions",
    "queue_counts", "queue_progressed", "rejected_statements", "run_worker", "sent_statements", "sole_worker",
]
