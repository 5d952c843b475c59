"""Half-way through a soak: a lens title edited in the content directory, and every instance must serve it."""
import asyncio
import os
import re
import time
from pathlib import Path

from bench.soak.client import Load

EDITED_LENS = ("spacing-and-interleaving", "the-spacing-effect")  # (module slug, lens name) whose title changes


async def readyz(load: Load, instance: str) -> str | None:
    response = await load.send("readyz", "GET", f"{instance.rstrip('/')}/readyz", gated=False)
    if response is None or response.status_code != 200:
        return None
    return response.json().get("content", {}).get("fingerprint")


def edit_lens_title(content_dir: Path, lens_name: str, stamp: str) -> str:
    """Change the lens's title in its file, replacing the file atomically as a deploy would."""
    path = content_dir / "lenses" / f"{lens_name}.md"
    text = path.read_text()
    old = re.search(r'^title: *"?([^"\n]*)"?$', text, re.MULTILINE)
    title = f"{old.group(1).split(', revised')[0]}, revised {stamp}"
    staged = path.with_name(f".{path.name}.soak")
    staged.write_text(text[: old.start()] + f'title: "{title}"' + text[old.end():])
    os.replace(staged, path)
    return title


async def content_reload(load: Load, instances: list[str], content_dir: Path, report: dict) -> None:
    """Half-way through: edit a lens title, then every instance must serve the new content."""
    report["problems"] = ["the edit was not made: the run ended first"]
    if not await load.sleep_until(load.start + load.args.duration * 0.45):
        return
    report["problems"] = []
    before = {instance: await readyz(load, instance) for instance in instances}
    report["fingerprint_before"] = before
    if len(set(before.values())) != 1 or None in before.values():
        report["problems"].append("the instances do not report one fingerprint before the edit")
    edited_at = time.monotonic()
    title = edit_lens_title(content_dir, EDITED_LENS[1], str(int(time.time())))
    report["new_title"] = title
    limit = load.args.content_check_s + 20
    reloaded = {}
    while len(reloaded) < len(instances) and time.monotonic() - edited_at < limit:
        for instance in (i for i in instances if i not in reloaded):
            seen = await readyz(load, instance)
            if seen and seen != before[instance]:
                reloaded[instance] = round(time.monotonic() - edited_at, 2)
        await asyncio.sleep(0.25)
    report["seconds_to_reload"] = reloaded
    # Each worker looks for new files on its own next request after TRACKER_CONTENT_CHECK_S; by
    # then every worker has had many, so every answer from here on must come from the new content.
    await asyncio.sleep(max(0.0, edited_at + load.args.content_check_s + 1 - time.monotonic()))
    after = {instance: {await readyz(load, instance) for _ in range(10)} for instance in instances}
    report["fingerprint_after"] = {instance: sorted(str(f) for f in seen) for instance, seen in after.items()}
    news = set().union(*after.values())
    if len(reloaded) != len(instances) or len(news) != 1 or news & set(before.values()):
        report["problems"].append("not every instance reports one new fingerprint")
    stale = served = 0
    for _ in range(20):
        response = await load.send("page", "GET", f"/modules/{EDITED_LENS[0]}/{EDITED_LENS[1]}")
        if response is not None and response.status_code == 200:
            served += 1
            stale += title not in response.text
        await asyncio.sleep(0.2)
    report["pages_after_reload"] = {"served": served, "stale": stale}
    if stale or not served:
        report["problems"].append("a lens page still showed the old title after the reload")
