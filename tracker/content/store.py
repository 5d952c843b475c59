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


CONTENT_FILES = (".md", ".json")
# How long after its last change a file's timestamps are sure to tell a later edit apart: far more
# than any file system's timestamp granularity (Linux stamps files with a clock of a few ms).
SETTLED_NS = 2_000_000_000


def content_files(directory: Path):
    for folder, _, files in sorted(os.walk(directory)):
        for name in sorted(files):
            if name.endswith(CONTENT_FILES) and not name.startswith("."):
                yield Path(folder, name)


def file_signature(directory: Path) -> tuple[str, int]:
    """A hash of each content file's path, size, times and inode, and the newest change time (ns).

    It reads no file: a large vault's bytes take a tenth of a second to hash, its stats a fiftieth.
    """
    digest, newest = hashlib.sha256(), 0
    for path in content_files(directory):
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0{info.st_ino}\0".encode())
    return digest.hexdigest(), newest


def fingerprint(directory: Path) -> str:
    """A hash of every Markdown and JSON file's path and bytes (a vault's transcripts have JSON timestamps).

    Hashing a course's few hundred kilobytes takes about a millisecond; mtimes alone can miss
    an edit that keeps the size and lands within the filesystem's timestamp granularity.
    """
    digest = hashlib.sha256()
    for path in content_files(directory):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # deleted while we walked; the next check sees the result
            continue
        digest.update(f"{path}\0{len(data)}\0".encode())
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
        self._signature: str | None = None  # file_signature at the last check, when every file had settled
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
            # Unchanged stats of files that had settled at the last check mean unchanged files: an
            # edit since then would carry a newer time. Only otherwise are the bytes hashed.
            signature, newest_ns = file_signature(self.directory)
            if signature == self._signature:
                return False
            settled = time.time_ns() - newest_ns > SETTLED_NS
            current = fingerprint(self.directory)
            if current == self._fingerprint:
                self._signature = signature if settled else None
                return False
            self._fingerprint, self._signature = current, signature if settled else None
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
