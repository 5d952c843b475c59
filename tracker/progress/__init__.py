"""The progress service: every rule about time and completion lives here, free of Flask."""
from .errors import InvalidDelta, LensNotInModule, NotAPlacement, ProgressError, UnknownLens, UnknownModule
from .service import (
    Budget,
    Learner,
    complete_lens,
    get_module_state,
    module_state,
    record_heartbeat,
    update_module_progress,
)

__all__ = [
    "Budget",
    "InvalidDelta",
    "Learner",
    "LensNotInModule",
    "NotAPlacement",
    "ProgressError",
    "UnknownLens",
    "UnknownModule",
    "complete_lens",
    "get_module_state",
    "module_state",
    "record_heartbeat",
    "update_module_progress",
]
