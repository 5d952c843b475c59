"""Domain errors of the progress service. The API maps each to one HTTP status."""


class ProgressError(Exception):
    """Base class: a request the progress rules refuse."""


class UnknownLens(ProgressError):
    """The content id is not a lens of the current content."""


class UnknownModule(ProgressError):
    """No module has this slug."""


class LensNotInModule(ProgressError):
    """The lens exists but is not part of the module named in the request."""


class NotAPlacement(ProgressError):
    """The LO or module sent with a heartbeat is not where that lens is placed."""


class InvalidDelta(ProgressError):
    """A heartbeat's seconds are outside 1..max_delta_s."""
