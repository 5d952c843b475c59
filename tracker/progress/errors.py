"""Domain errors of the progress service. The API maps each to one HTTP status."""


class ProgressError(Exception):
    """Base class: a request the progress rules refuse."""


class UnknownLens(ProgressError):
    """The content id is not a lens of the current content."""


class UnknownCourse(ProgressError):
    """No course has this slug."""


class UnknownLearner(ProgressError):
    """No learner is found by the id the admin page was given."""


class UnknownModule(ProgressError):
    """No module has this slug."""


class LensNotInModule(ProgressError):
    """The lens exists but is not part of the module named in the request."""


class NotAPlacement(ProgressError):
    """The LO or module sent with a heartbeat is not where that lens is placed."""


class InvalidDelta(ProgressError):
    """A heartbeat's seconds are outside 1..max_delta_s."""

    def __init__(self, delta_s: int, max_delta_s: int):
        self.delta_s, self.max_delta_s = delta_s, max_delta_s
        super().__init__(self.describe("time_delta_s"))

    def describe(self, field: str) -> str:
        shown = self.delta_s if abs(self.delta_s) < 10**12 else "a huge number"
        return f"{field} must be a whole number of seconds from 1 to {self.max_delta_s}, got {shown}"


class OutOfRange(ProgressError):
    """A number a client sent (a backlog age, a chunk id) is outside the range it may take."""

    def __init__(self, field: str, value: int, low: int, high: int):
        shown = value if abs(value) < 10**18 else "a huge number"
        super().__init__(f"{field} must be a whole number from {low} to {high}, got {shown}")


class ChatNotStarted(ProgressError):
    """A required chat lens cannot be completed before the learner has written to the tutor in it."""
