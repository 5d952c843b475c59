"""Hold the current content index and swap in a new one when the files change."""
import hashlib
import logging
import os
import threading
import time
from pathlib import Path

from .loader import ContentError, load_content
from .model import ContentIndex

log = logging.getLogger(__name__)


def fingerprint(directory: Path) -> str:
    """A hash of every Markdown file's path and bytes.

    Hashing a course's few hundred kilobytes takes about a millisecond; mtimes alone can miss
    an edit that keeps the size and lands within the filesystem's timestamp granularity.
    """
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(directory)):
        for name in sorted(files):
            if name.endswith(".md") and not name.startswith("."):
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
    """

    def __init__(self, directory: Path | str, check_interval_s: float = 2.0, chat_allowance_s: int = 600):
        self.directory = Path(directory)
        self.chat_allowance_s = chat_allowance_s
        self.check_interval_s = check_interval_s
        self._fingerprint = fingerprint(self.directory)
        self._index = load_content(self.directory, chat_allowance_s)  # invalid content stops the app from starting
        self.loaded_fingerprint = self._fingerprint  # which files the served index came from (shown by /readyz)
        self._next_check = time.monotonic() + check_interval_s
        self._reload_lock = threading.Lock()
        self.last_error: Exception | None = None

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
                new_index = load_content(self.directory, self.chat_allowance_s)
            except (ContentError, OSError) as error:
                self.last_error = error
                log.error("content reload refused, keeping the previous content: %s", error)
                return False
            self._index, self.last_error, self.loaded_fingerprint = new_index, None, current
            log.info("content reloaded from %s", self.directory)
            return True
        finally:
            self._reload_lock.release()
