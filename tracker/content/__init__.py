"""Course content: Markdown files with YAML front matter, loaded into an immutable index."""
from .loader import ContentError, load_content
from .model import ContentIndex, Course, Lens, Module, Outcome, Placement, Section
from .store import ContentStore

__all__ = [
    "ContentError",
    "ContentIndex",
    "ContentStore",
    "Course",
    "Lens",
    "Module",
    "Outcome",
    "Placement",
    "Section",
    "load_content",
]
