"""The progress service: every rule about time and completion lives here, free of Flask."""
from .errors import (
    ChatNotStarted,
    InvalidDelta,
    LensNotInModule,
    NotAPlacement,
    OutOfRange,
    ProgressError,
    UnknownCourse,
    UnknownLearner,
    UnknownLens,
    UnknownModule,
)
from .lookup import find_course, find_module, find_section
from .learner_data import (
    EXPORT_COLUMNS,
    claim_anonymous_progress,
    claim_late_anonymous_progress,
    delete_learning_records,
    delete_progress,
    export_answers,
)
from tracker.learner import Learner

from .model import Budget
from .service import complete_lens, record_heartbeat, update_module_progress
from .state import course_state, courses_overview, get_module_state, learner_report, lens_in, lens_page

__all__ = [
    "EXPORT_COLUMNS",
    "ChatNotStarted",
    "claim_anonymous_progress",
    "claim_late_anonymous_progress",
    "delete_learning_records",
    "delete_progress",
    "export_answers",
    "find_course",
    "find_module",
    "find_section",
    "Budget",
    "InvalidDelta",
    "Learner",
    "LensNotInModule",
    "NotAPlacement",
    "OutOfRange",
    "ProgressError",
    "UnknownCourse",
    "UnknownLearner",
    "UnknownLens",
    "UnknownModule",
    "complete_lens",
    "course_state",
    "courses_overview",
    "get_module_state",
    "learner_report",
    "lens_in",
    "lens_page",
    "record_heartbeat",
    "update_module_progress",
]
