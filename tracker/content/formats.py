"""Which loader reads a content directory: tracker's own YAML front matter, or a Lens vault."""
from dataclasses import dataclass
from pathlib import Path

from .loader import ContentError, load_content
from .model import ContentIndex
from .vault.loader import MissingId, is_vault, load_vault
from .vault.sections import VaultError


@dataclass(frozen=True)
class ContentLoad:
    """An index and what was wrong with the files (a vault's; tracker's own format raises instead)."""

    index: ContentIndex
    format: str
    errors: tuple[VaultError, ...] = ()
    warnings: tuple[VaultError, ...] = ()
    summary: str = ""
    missing_ids: tuple[MissingId, ...] = ()


def format_of(directory: Path | str, configured: str = "auto") -> str:
    if configured != "auto":
        return configured
    return "lens" if is_vault(directory) else "tracker"


def read_content(directory: Path | str, chat_allowance_s: int = 600, configured: str = "auto") -> ContentLoad:
    """Load a content directory in its format. tracker's own format raises ContentError at the first problem;
    a vault's problems are returned, with the courses that have none."""
    if not Path(directory).is_dir():
        raise ContentError(directory, "directory", "does not exist or is not a directory")
    if format_of(directory, configured) == "tracker":
        return ContentLoad(load_content(directory, chat_allowance_s), "tracker")
    loaded = load_vault(directory, chat_allowance_s)
    return ContentLoad(loaded.index, "lens", loaded.errors, loaded.warnings, loaded.summary, loaded.missing_ids)
