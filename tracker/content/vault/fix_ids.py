"""`content check --fix-ids`: give every module, LO, lens and question that a course reaches an id.

Only ids that are missing are written; an id that is there, even a malformed one, is the
author's to fix, since changing it would orphan the progress kept under it.
"""
import re
from pathlib import Path
from uuid import uuid4

from .loader import MissingId

LINE_END = re.compile(r"\r\n|\n|\r")


def add_missing_ids(root: Path | str, missing: tuple[MissingId, ...]) -> list[tuple[MissingId, str]]:
    """Write a fresh UUID for each missing id, in place; return each one with the id written."""
    written: list[tuple[MissingId, str]] = []
    by_file: dict[str, list[MissingId]] = {}
    for item in missing:
        by_file.setdefault(item.path, []).append(item)
    for path, items in by_file.items():
        file = Path(root, path)
        raw = file.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw[3:].decode("utf-8") if bom else raw.decode("utf-8")
        newline = LINE_END.search(text).group() if LINE_END.search(text) else "\n"
        lines = text.split(newline)
        # From the bottom up, so that the lines above keep their numbers.
        for item in sorted(items, key=lambda item: item.line, reverse=True):
            new_id = str(uuid4())
            if item.place == "front matter":
                if lines and lines[0].strip() == "---":
                    lines.insert(1, f"id: '{new_id}'")
                else:
                    lines[0:0] = ["---", f"id: '{new_id}'", "---"]
            else:
                lines.insert(item.line, f"id:: {new_id}")  # right under the section's heading
            written.append((item, new_id))
        data = newline.join(lines).encode("utf-8")
        file.write_bytes(b"\xef\xbb\xbf" + data if bom else data)
    return sorted(written, key=lambda pair: (pair[0].path, pair[0].line))
