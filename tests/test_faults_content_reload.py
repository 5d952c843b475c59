"""Content rewritten under load: each valid revision swaps in without a failed heartbeat, an invalid one is refused."""
import time
from pathlib import Path

import pytest

from support.faults import copied_content  # noqa: F401 (the fixture content_dir: a copy of the content)
from support.faults import MODULE, NO_BUDGET_LIMIT, Load, heartbeat, module_heartbeat, wait_for


def rewrite_module(content_dir: Path, change) -> None:
    path = content_dir / "modules" / f"{MODULE}.md"
    path.write_text(change(path.read_text()))


def served_title(store) -> str:
    return store.index.modules_by_slug[MODULE].title


@pytest.mark.app_config(TRACKER_CONTENT_CHECK_S=1, TRACKER_BURST_S=NO_BUDGET_LIMIT, RATELIMIT_ENABLED=False)
def test_content_rewritten_under_load_swaps_without_a_failed_heartbeat_and_refuses_invalid_files(
    app, editable_content, caplog
):
    store = app.extensions["tracker.content"]
    first_index = store.index
    senders = [heartbeat, heartbeat, module_heartbeat]
    titles = []
    with Load(app, senders, pause_s=0.01) as load:
        load.wait_for_deliveries(3)
        for revision in range(1, 4):  # valid changes: the module's title
            title = f"How Memory Works, revision {revision}"
            rewrite_module(editable_content, lambda s, t=title: s.replace(f'title: "{titles[-1] if titles else "How Memory Works"}"', f'title: "{t}"', 1))
            titles.append(title)
            wait_for(lambda t=title: served_title(store) == t, message=f"the server to serve {title!r}")
        # An invalid change: refused, logged, and the old content stays in service.
        good = (editable_content / "modules" / f"{MODULE}.md").read_text()
        rewrite_module(editable_content, lambda s: s.replace(str(first_index.modules_by_slug[MODULE].outcomes[0].id), "not-a-uuid", 1))
        wait_for(lambda: "not-a-uuid" in str(store.last_error or ""), message="the invalid content to be refused")
        assert served_title(store) == titles[-1]
        load.wait_for_deliveries(3, after=time.monotonic())  # heartbeats go on against the old index
        (editable_content / "modules" / f"{MODULE}.md").write_text(good.replace(titles[-1], "How Memory Works, fixed"))
        wait_for(lambda: served_title(store) == "How Memory Works, fixed", message="the fixed content to be served")
        load.wait_for_deliveries(3, after=time.monotonic())

    assert {a.status for a in load.answers} <= {200, 204}
    assert any("content reload refused" in r.getMessage() and "not-a-uuid" in r.getMessage() for r in caplog.records)
    figures = load.check_nothing_lost_or_doubled()
    print(f"\n[content reload] {len(load.answers)} requests, all 2xx, during 5 rewrites (one invalid);"
          f" credited {figures['credited_s']} s = database")
