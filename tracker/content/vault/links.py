"""Wikilinks between vault files, and the clip times of video segments.

A vault is input from authors, not code: a link is followed only to a file inside the vault,
however it is written, so a course can never make the server read anything else.
"""
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

WIKILINK = re.compile(r"(?P<embed>!?)\[\[(?P<inner>[^\[\]\n]+)\]\]")
# M:SS, MM:SS or H:MM:SS, with decimals on the seconds; [0-9] because \d takes any script's digits.
CLIP_TIME = re.compile(
    r"(?:(?P<hours>[0-9]{1,2}):(?=[0-5][0-9]:))?"
    r"(?P<minutes>[0-9]{1,2}):(?P<seconds>[0-5][0-9](?:\.[0-9]+)?)"
)


class LinkOutsideVault(ValueError):
    """A link that would reach a file outside the vault root; always refused."""


@dataclass(frozen=True)
class WikiLink:
    """`[[path#anchor|shown]]`, or `![[…]]` to embed; path "" is the linking file itself."""

    path: str
    anchor: str | None  # a heading's text, or "^id" for a block
    shown: str | None
    embed: bool

    @property
    def block_id(self) -> str | None:
        return self.anchor[1:] if self.anchor and self.anchor.startswith("^") else None

    @classmethod
    def from_match(cls, match: re.Match[str]) -> "WikiLink":
        """The link a WIKILINK match found, so callers can rewrite links with WIKILINK.sub."""
        target, _, shown = match["inner"].partition("|")
        # In a Markdown table the pipe is written `\|`, and the backslash belongs to neither side.
        path, _, anchor = target.removesuffix("\\").partition("#")
        return cls(path.strip(), anchor.strip() or None, shown.strip() or None, bool(match["embed"]))


def parse_wikilink(text: str) -> WikiLink:
    """The one wikilink a field such as `source::` holds; ValueError when it holds anything else."""
    match = WIKILINK.fullmatch(text.strip())
    if not match:
        raise ValueError(f'"{text}" is not a wikilink such as [[../Lenses/Name]]')
    return WikiLink.from_match(match)


def find_wikilinks(text: str) -> list[WikiLink]:
    """Every wikilink in a text, in order."""
    return [WikiLink.from_match(match) for match in WIKILINK.finditer(text)]


def resolve(link_path: str, from_file: Path | str, vault_root: Path | str, real_root: Path | None = None) -> Path | None:
    """The file a link points at, or None when there is none (whether that is an error is the caller's call).

    The path is relative to the linking file's folder (`from_file` is absolute or relative to the
    vault root), and may leave out `.md`: it is tried as written, then with `.md`. A path that is
    absolute, climbs out of the vault with `..`, or reaches a symlink leading out raises
    LinkOutsideVault. The answer is the real path of the file.
    """
    root = Path(os.path.abspath(vault_root))
    linking_file = Path(os.path.abspath(root / from_file))
    if not link_path:
        return linking_file.resolve() if linking_file.is_file() else None
    if link_path.startswith(("/", "\\")) or PureWindowsPath(link_path).drive:
        raise LinkOutsideVault(f'link "{link_path}" in {from_file} is an absolute path; links must be relative')
    written = Path(os.path.normpath(linking_file.parent / link_path))
    if not written.is_relative_to(root):
        raise LinkOutsideVault(f'link "{link_path}" in {from_file} leads out of the vault')
    for candidate in (written, written.with_name(written.name + ".md")):
        if candidate.is_file():
            target = candidate.resolve()
            if not target.is_relative_to(real_root or root.resolve()):
                raise LinkOutsideVault(f'link "{link_path}" in {from_file} leads out of the vault through a symlink')
            return target
    return None


def parse_time(value: str) -> float:
    """Seconds from a clip time such as `11:46.2`; ValueError naming the value for any other form."""
    match = CLIP_TIME.fullmatch(value.strip())
    if not match:
        raise ValueError(f'"{value}" is not a time: write M:SS, MM:SS or H:MM:SS, such as 11:46.2')
    hours = int(match["hours"] or 0)
    return hours * 3600 + int(match["minutes"]) * 60 + float(match["seconds"])


class VaultFiles:
    """The vault's files, listed once, so that its thousands of links resolve without system calls.

    Answers as `resolve` does. A vault with a symlink anywhere in it (or a root reached through
    one) resolves each link through the file system instead, which follows symlinks and refuses
    the ones leading out.
    """

    def __init__(self, vault_root: Path | str):
        self.root = Path(os.path.abspath(vault_root))
        self.real_root = self.root.resolve()
        self.files: set[str] = set()
        self.has_symlinks = self.root != self.real_root
        folders = [""]
        while folders and not self.has_symlinks:
            folder = folders.pop()
            with os.scandir(self.root / folder) as entries:
                for entry in entries:
                    relative = f"{folder}/{entry.name}" if folder else entry.name
                    if entry.is_symlink():
                        self.has_symlinks = True
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(relative)
                    elif entry.is_file(follow_symlinks=False):
                        self.files.add(relative)

    def resolve(self, link_path: str, from_file: str) -> Path | None:
        """`resolve(link_path, from_file, root)` for a `from_file` relative to the root, as a posix path."""
        if self.has_symlinks:
            return resolve(link_path, from_file, self.root, self.real_root)
        if not link_path:
            return self.real_root / from_file if from_file in self.files else None
        if link_path.startswith(("/", "\\")) or PureWindowsPath(link_path).drive:
            raise LinkOutsideVault(f'link "{link_path}" in {from_file} is an absolute path; links must be relative')
        written = posixpath.normpath(posixpath.join(posixpath.dirname(from_file), link_path))
        if written == ".." or written.startswith("../"):
            raise LinkOutsideVault(f'link "{link_path}" in {from_file} leads out of the vault')
        for candidate in (written, written + ".md"):
            if candidate in self.files:
                return self.real_root / candidate
        return None
