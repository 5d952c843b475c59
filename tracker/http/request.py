"""The app's Request class: what several parts of one request need is worked out once, on it.

The rate limits look at the learner and, for a module's progress, the body before the view
does; both are cached properties of the request, so each is read once per request and never
outlives it.
"""
from functools import cached_property

from flask import Request

from tracker.learner import Learner

from .body import RequestBody
from .identity import identify_learner


class TrackerRequest(Request):
    @cached_property
    def body(self) -> RequestBody:
        """The body as typed fields; a malformed body raises the 400 or 422 that names the problem."""
        return RequestBody.parse(self)

    @cached_property
    def learner(self) -> Learner:
        """Who this request acts for; 401 without any identity, 400 for a malformed token."""
        return identify_learner(self)
