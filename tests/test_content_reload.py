"""Live reload through ContentStore: edits swap in a whole new index, and an invalid edit keeps the last good one."""
import logging
import os
import threading
import time
from uuid import UUID, uuid4

from support.content import (
    FORGETTING_CURVE,
    FORGETTING_CURVE_ID,
    HOW_MEMORY,
    MODULE_SLUGS,
    TESTING_EFFECT,
    make_app,
    replace,
    rewrite,
    set_title,
    touch,
)
from tracker.content import ContentError, ContentStore


def test_nothing_changed_means_no_reload(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    before = store.index
    assert store.reload_if_changed() is False
    assert store.index is before


def test_reload_swaps_in_edited_content(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    old = store.index
    lens_id = UUID(FORGETTING_CURVE_ID)
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")

    assert store.reload_if_changed() is True
    new = store.index
    assert new is not old
    assert new.lenses_by_id[lens_id].title == "Forgetting, Charted"
    for slug in ("how-memory-works", "spacing-and-interleaving"):
        assert new.modules_by_slug[slug].section_for(lens_id).lens.title == "Forgetting, Charted"
    assert store.last_error is None
    # A reader still holding the old index sees the old content, whole.
    assert old.lenses_by_id[lens_id].title == "The Forgetting Curve"
    for slug in ("how-memory-works", "spacing-and-interleaving"):
        assert old.modules_by_slug[slug].section_for(lens_id).lens.title == "The Forgetting Curve"
    # The same files are not reloaded twice.
    assert store.reload_if_changed() is False
    assert store.index is new


def test_reload_picks_up_a_new_lens(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    new_id = uuid4()
    (editable_content / "lenses" / "sleep-and-memory.md").write_text(
        f'---\nid: {new_id}\ntitle: "Sleep and Memory"\ntype: article\n---\nSleep consolidates.\n',
        encoding="utf-8",
    )
    rewrite(editable_content / HOW_MEMORY, lambda d: d["outcomes"][0]["lenses"].append("sleep-and-memory"))
    assert store.reload_if_changed() is True
    module = store.index.modules_by_slug["how-memory-works"]
    assert [s.lens.name for s in module.sections][3] == "sleep-and-memory"
    assert new_id in module.required_lens_ids
    assert [p.module.slug for p in store.index.placements_of(new_id)] == ["how-memory-works"]


def test_invalid_edit_keeps_the_previous_index(editable_content, caplog):
    caplog.set_level(logging.INFO, logger="tracker.content.store")
    store = ContentStore(editable_content, check_interval_s=0)
    old = store.index
    replace(editable_content / TESTING_EFFECT, "type: article", "type: podcast")

    assert store.reload_if_changed() is False
    assert store.index is old
    assert old.lenses_by_name["the-testing-effect"].type == "article"
    error = store.last_error
    assert isinstance(error, ContentError)
    assert (error.path, error.field) == (TESTING_EFFECT, "type")
    errors = [r for r in caplog.records if r.name == "tracker.content.store" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"{TESTING_EFFECT}: type" in errors[0].getMessage()

    # Asking again without a further change neither reloads nor logs the same error again.
    assert store.reload_if_changed() is False
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1

    # Fixing the file brings the new content in and clears the error.
    replace(editable_content / TESTING_EFFECT, "type: podcast", "type: article")
    set_title(editable_content / TESTING_EFFECT, "Testing, Tested")
    assert store.reload_if_changed() is True
    assert store.last_error is None
    assert store.index.lenses_by_name["the-testing-effect"].title == "Testing, Tested"


def test_index_checks_for_changes_by_itself(editable_content):
    store = ContentStore(editable_content, check_interval_s=0.05)
    old = store.index
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    time.sleep(0.1)
    new = store.index
    assert new is not old
    assert new.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_index_does_not_check_before_the_interval(editable_content):
    store = ContentStore(editable_content, check_interval_s=3600)
    old = store.index
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    assert store.index is old
    assert store.reload_if_changed() is True  # an explicit check does not wait
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_interval_zero_turns_automatic_checks_off(editable_content):
    store = ContentStore(editable_content, check_interval_s=0)
    old = store.index
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    time.sleep(0.01)
    assert store.index is old


def test_app_content_store_uses_the_configured_interval(editable_content):
    store = make_app(editable_content, TRACKER_CONTENT_CHECK_S=0.05).extensions["tracker.content"]
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    time.sleep(0.1)
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_readers_always_see_a_whole_index_while_reloading(editable_content):
    """Readers (which also trigger checks themselves) race the main thread's edits and reloads."""
    store = ContentStore(editable_content, check_interval_s=0.001)
    lens_file = editable_content / FORGETTING_CURVE
    original = lens_file.read_text(encoding="utf-8")
    stop = threading.Event()
    problems: list[BaseException] = []
    titles_seen: set[str] = set()
    reads = [0]

    def read():
        try:
            while not stop.is_set():
                index = store.index
                assert list(index.modules_by_slug) == MODULE_SLUGS
                assert len(index.lenses_by_name) == 20 and len(index.outcomes_by_id) == 9
                lens = index.lenses_by_name["the-forgetting-curve"]
                assert lens.type == "article"  # never an index built from the invalid edits
                placements = index.placements_of(lens.id)
                assert [p.module.slug for p in placements] == ["how-memory-works", "spacing-and-interleaving"]
                assert all(p.module.section_for(lens.id).lens is lens for p in placements)
                titles_seen.add(lens.title)
                reads[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            problems.append(error)

    readers = [threading.Thread(target=read, daemon=True) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        for i in range(30):
            text = original.replace('title: "The Forgetting Curve"', f'title: "The Forgetting Curve, take {i}"')
            if i % 5 == 2:
                text = text.replace("type: article", "type: podcast")
            lens_file.write_text(text, encoding="utf-8")
            touch(lens_file)
            store.reload_if_changed()
            time.sleep(0.002)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=10)
    assert not any(reader.is_alive() for reader in readers)
    assert not problems, problems
    assert reads[0] > 0
    assert len(titles_seen) > 1  # the readers really did see reloads happen
    store.reload_if_changed()
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "The Forgetting Curve, take 29"


def test_an_editor_lock_file_does_not_break_live_reload(editable_content):
    """Emacs marks a file with unsaved changes by a dangling symlink `.#<name>` beside it.

    An author with unsaved changes in one lens saves another lens: the saved change must be
    served, and reading the index must not fail while the lock file exists.
    """
    store = ContentStore(editable_content, check_interval_s=0)
    os.symlink("author@laptop.4242:1700000000", editable_content / "lenses" / ".#the-testing-effect.md")
    set_title(editable_content / FORGETTING_CURVE, "Forgetting, Charted")
    assert store.reload_if_changed() is True
    assert store.index.lenses_by_name["the-forgetting-curve"].title == "Forgetting, Charted"


def test_an_edit_that_keeps_the_size_is_noticed_after_the_files_settled(editable_content):
    """Settled files are checked by their stats alone; an edit after that still changes them."""
    store = ContentStore(editable_content, check_interval_s=0)
    lens = editable_content / FORGETTING_CURVE
    time.sleep(2.1)  # longer than SETTLED_NS: from now on an unchanged stat means an unchanged file
    assert store.reload_if_changed() is False
    assert store.reload_if_changed() is False
    set_title(lens, "The Forgetting Curvf")  # same length, so the same size
    assert store.reload_if_changed() is True
    assert store.index.lenses_by_id[UUID(FORGETTING_CURVE_ID)].title == "The Forgetting Curvf"


def test_an_edit_within_the_timestamp_granularity_is_still_noticed(editable_content):
    """Files changed a moment ago are hashed, so two edits in one tick of the file system's clock are told apart."""
    store = ContentStore(editable_content, check_interval_s=0)
    lens = editable_content / FORGETTING_CURVE
    set_title(lens, "The Forgetting Curvf")
    assert store.reload_if_changed() is True
    stat = lens.stat()
    set_title(lens, "The Forgetting Curvg")
    os.utime(lens, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same mtime, as a coarse clock would give
    assert store.reload_if_changed() is True
    assert store.index.lenses_by_id[UUID(FORGETTING_CURVE_ID)].title == "The Forgetting Curvg"
