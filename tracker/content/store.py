"""Hold the current content index and swap in a new one when the files change."""
import hashlib
import logging
import os
import threading
import time
from pathlib import Path

from .formats import ContentLoad, read_content
from .loader import ContentError
from .model import ContentIndex

log = logging.getLogger(__name__)


def fingerprint(directory: Path) -> str:
    """A hash of every Markdown and JSON file's path and bytes (a vault's transcripts have JSON timestamps).

    Hashing a course's few hundred kilobytes takes about a millisecond; mtimes alone can miss
    an edit that keeps the size and lands within the filesystem's timestamp granularity.
    """
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(directory)):
        for name in sorted(files):
            if name.endswith((".md", ".json")) and not name.startswith("."):
                try:
                    data = Path(folder, name).read_bytes()
                except FileNotFoundError:  # deleted while we walked; the next check sees the result
                    continue
                digest.update(f"{folder}/{name}\0{len(data)}\0".encode())
                digest.update(data)
    return digest.hexdigest()


class ContentStore:
    """The live index. Readers always see a whole index, the old one or the new one.

    A check for changed files runs at most every `check_interval_s` seconds, on whichever
    request comes first; the new index replaces the old with one reference assignment,
    which is atomic in Python. Invalid new content is logged and the old index stays.

    A vault is served at start even when some of its courses have errors (the others are served);
    a reload in which an error takes a served course away keeps the previous index. `latest` is what the files gave last time
    they were read, errors and warnings included, for the admins' content status page.
    """

    def __init__(self, directory: Path | str, check_interval_s: float = 2.0, chat_allowance_s: int = 600, content_format: str = "auto"):
        self.directory = Path(directory)
        self.chat_allowance_s = chat_allowance_s
        self.content_format = content_format
        self.check_interval_s = check_interval_s
        self._fingerprint = fingerprint(self.directory)
        # Invalid content stops the app from starting; so does a vault in which no course loads.
        self.latest: ContentLoad = read_content(self.directory, chat_allowance_s, content_format)
        if self.latest.errors and not self.latest.index.courses:
            first = self.latest.errors[0]
            raise ContentError(first.path, f"line {first.line}", f"no course loads ({len(self.latest.errors)} errors; the first: {first})")
        self._index = self.latest.index
        self.loaded_fingerprint = self._fingerprint  # which files the served index came from (shown by /readyz)
        self._next_check = time.monotonic() + check_interval_s
        self._reload_lock = threading.Lock()
        self.last_error: Exception | None = None

    def status(self) -> dict:
        """What the admins' content page shows: what is served, and the problems of the files as last read."""
        latest, served = self.latest, self._index
        return {
            "directory": str(self.directory),
            "format": latest.format,
            "fingerprint": self.loaded_fingerprint,
            "courses": served.courses,
            "modules": len(served.modules),
            "lenses": len(served.lenses),
            "summary": latest.summary,
            "errors": latest.errors,
            "warnings": latest.warnings,
            "refused": str(self.last_error) if self.last_error else None,
        }

    @property
    def index(self) -> ContentIndex:
        if self.check_interval_s and time.monotonic() >= self._next_check:
            self.reload_if_changed()
        return self._index

    def reload_if_changed(self) -> bool:
        """Reload when the files changed; return whether a new index was swapped in."""
        if not self._reload_lock.acquire(blocking=False):
            return False  # another thread is already checking; keep serving the current index
        try:
            self._next_check = time.monotonic() + self.check_interval_s
            current = fingerprint(self.directory)
            if current == self._fingerprint:
                return False
            self._fingerprint = current
            try:
                loaded = read_content(self.directory, self.chat_allowance_s, self.content_format)
                self.latest = loaded
                # An error leaves its course out of a vault's index. A reload in which an error would take
                # away a course being served is refused; one broken since the start stays out meanwhile,
                # and a course whose file was removed goes.
                lost = sorted({c.slug for c in self._index.courses} - {c.slug for c in loaded.index.courses})
                if lost and loaded.errors:
                    first = loaded.errors[0]
                    raise ContentError(self.directory, "courses", f"{', '.join(lost)} would no longer load ({len(loaded.errors)} errors; the first: {first})")
            except (ContentError, OSError) as error:
                self.last_error = error
                log.error("content reload refused, keeping the previous content: %s", error)
                return False
            self.latest = loaded
            self._index, self.last_error, self.loaded_fingerprint = loaded.index, None, current
            log.info("content reloaded from %s", self.directory)
            return True
        finally:
            self._reload_lock.release()
