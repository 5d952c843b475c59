"""The progress service: every rule about time and completion lives here, free of Flask."""
from .errors import (
    ChatNotStarted,
    InvalidDelta,
    LensNotInModule,
    NotAPlacement,
    OutOfRange,
    ProgressError,
    UnknownLens,
    UnknownModule,
)
from .account import EXPORT_COLUMNS, claim_anonymous_progress, claim_late_anonymous_progress, delete_progress, export_rows
from .chats import export_chats
from .model import Budget, Learner
from .service import complete_lens, record_heartbeat, update_module_progress
from .state import course_state, courses_overview, get_module_state, learner_report, module_state

__all__ = [
    "EXPORT_COLUMNS",
    "ChatNotStarted",
    "claim_anonymous_progress",
    "claim_late_anonymous_progress",
    "delete_progress",
    "export_chats",
    "export_rows",
    "Budget",
    "InvalidDelta",
    "Learner",
    "LensNotInModule",
    "NotAPlacement",
    "OutOfRange",
    "ProgressError",
    "UnknownLens",
    "UnknownModule",
    "complete_lens",
    "course_state",
    "courses_overview",
    "get_module_state",
    "learner_report",
    "module_state",
    "record_heartbeat",
    "update_module_progress",
]
