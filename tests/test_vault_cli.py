"""`flask tracker content check|new-id` on a Lens vault: every error listed, ids added, orphaned progress named."""
import re
import shutil
from pathlib import Path
from uuid import UUID

import pytest

from support.app import app_settings, running_app
from support.content import replace
from support.learners import Learner, ProgressApi

VAULT = Path(__file__).parent / "vaults" / "lens-course"
SUMMARY = re.compile(r"^.+: (\d+) courses?, (\d+) modules?, (\d+) learning outcomes?, (\d+) lens(?:es)?, (\d+) segments? loaded; (\d+) errors?, (\d+) warnings?$")


@pytest.fixture
def vault(tmp_path):
    target = tmp_path / "vault"
    shutil.copytree(VAULT, target)
    return target


@pytest.fixture
def cli(database_url, tmp_path):
    """A CLI runner on an app serving the test vault, in an app context as `flask` gives one."""
    with running_app(app_settings(database_url, VAULT)) as app, app.app_context():
        yield app.test_cli_runner()


def check(cli, *args):
    return cli.invoke(args=["tracker", "content", "check", *map(str, args)])


def test_a_good_vault_passes_with_its_warnings_and_a_summary(cli):
    result = check(cli, VAULT)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summary = SUMMARY.match(lines[-1])
    assert summary, lines[-1]
    courses, modules, outcomes, lenses, segments, errors, warnings = map(int, summary.groups())
    assert (courses, errors) == (2, 0) and modules and outcomes and lenses and segments
    assert len([line for line in lines if line.startswith("warning: ")]) == warnings > 0


def test_check_lists_every_error_and_fails(cli, vault):
    replace(vault / "modules" / "Memory Basics.md", "source:: [[../Lenses/Every Kind of Segment]]", "source:: [[../Lenses/No Such Lens]]")
    replace(vault / "modules" / "Reading Actively.md", "source:: [[../Lenses/Reading With Questions]]", "source:: [[../../../etc/passwd]]")
    result = check(cli, vault)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, result.output
    assert any('modules/Memory Basics.md:' in e and 'field "source"' in e and "[[../Lenses/No Such Lens]]" in e for e in errors)
    assert any('modules/Reading Actively.md:' in e and "leads out of the vault" in e for e in errors)
    summary = SUMMARY.match(result.output.splitlines()[-1])
    assert summary and summary.group(6) == "2" and summary.group(1) == "0", "both courses have an error"


def test_new_id_prints_a_fresh_uuid(cli):
    first, second = (cli.invoke(args=["tracker", "content", "new-id"]).output.strip() for _ in range(2))
    assert UUID(first).version == 4 and first != second


def test_fix_ids_adds_the_missing_ids_in_place_and_says_which(cli, vault):
    lens_file = vault / "Lenses" / "Every Kind of Segment.md"
    original = lens_file.read_text()
    old_id = re.search(r"^id: '([0-9a-f-]+)'\n", original, re.M)
    lens_file.write_text(original.replace(old_id.group(), ""))
    module_file = vault / "modules" / "Memory Basics.md"
    inline = re.search(r"^id:: [0-9a-f-]+\n", module_file.read_text(), re.M)
    assert inline, "the test vault has an inline lens"
    module_file.write_text(module_file.read_text().replace(inline.group(), ""))
    assert check(cli, vault).exit_code == 1

    result = check(cli, vault, "--fix-ids")
    assert result.exit_code == 0, result.output
    added = re.findall(r"^added id ([0-9a-f-]{36}) to (.+):(\d+) \((front matter|field)\)$", result.output, re.M)
    assert sorted((path, place) for _, path, _, place in added) == [
        ("Lenses/Every Kind of Segment.md", "front matter"), ("modules/Memory Basics.md", "field"),
    ]
    assert f"id: '{added[0][0]}'" in lens_file.read_text() or f"id: '{added[1][0]}'" in lens_file.read_text()
    assert check(cli, vault).exit_code == 0, "nothing left to fix"
    again = check(cli, vault, "--fix-ids")
    assert "added id" not in again.output, "ids that are there are never rewritten"


def test_fix_ids_keeps_crlf_line_ends(cli, vault):
    crlf = [path for path in vault.rglob("*.md") if b"\r\n" in path.read_bytes()]
    lens = next(path for path in crlf if path.parent.name == "Lenses")
    data = lens.read_bytes()
    lens.write_bytes(re.sub(rb"^id: .*\r\n", b"", data, count=1, flags=re.M))
    assert "added id" in check(cli, vault, "--fix-ids").output
    fixed = lens.read_bytes()
    assert b"\r\n" in fixed and b"\n" not in fixed.replace(b"\r\n", b"")


def test_check_names_progress_that_a_new_id_would_orphan(database_url, vault):
    with running_app(app_settings(database_url, vault)) as app:
        index = app.extensions["tracker.content"].index
        learner = Learner("5b8f7c53-3a51-4d8e-9a6e-0d8b3f4f1a20")
        assert ProgressApi(app.test_client(), index).heartbeat(learner, "memory-basics", "every-kind-of-segment", 30).status_code == 204
        lens_id = index.lenses_by_name["every-kind-of-segment"].id
        lens_file = vault / "Lenses" / "Every Kind of Segment.md"
        replace(lens_file, f"id: '{lens_id}'", "id: '0c1b9a52-8d9e-4a57-9d21-7c3b6f1e2d40'")  # the file re-created with a new id
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["tracker", "content", "check", str(vault)])
    assert result.exit_code == 0, result.output
    (warning,) = [line for line in result.output.splitlines() if str(lens_id) in line]
    assert warning.startswith("warning: progress under lens") and "1 learner row" in warning and "How a memory is made" in warning
