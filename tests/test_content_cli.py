"""`flask tracker content check [DIR]` summarises valid content and reports invalid content, on an app with no database."""
import pytest

from support.content import HOW_MEMORY, VIDEO_LENS, make_app, rewrite
from tracker.config import DEMO_CONTENT_DIR


def summary_lines(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines()]


DEMO_SUMMARY = [
    "courses: 1",
    "modules: 3",
    "learning outcomes: 9",
    "lenses: 20 files, 21 placements (18 required, 3 optional)",
    "- how-memory-works: 3 LOs, 7 lenses, 6 required",
    "- retrieval-practice: 3 LOs, 7 lenses, 6 required",
    "- spacing-and-interleaving: 3 LOs, 7 lenses, 6 required",
]


@pytest.fixture
def cli():
    """A CLI runner on an app serving the demo content.

    The `flask` command pushes an app context before running a command; the test runner
    does not, so the fixture pushes one as `flask` would.
    """
    app = make_app(DEMO_CONTENT_DIR)
    with app.app_context():
        yield app.test_cli_runner()


def test_check_summarises_the_configured_content(cli):
    result = cli.invoke(args=["tracker", "content", "check"])
    assert result.exit_code == 0, result.output
    assert summary_lines(result.output) == [f"content OK: {DEMO_CONTENT_DIR}", *DEMO_SUMMARY]


def test_check_takes_a_directory(cli, editable_content):
    rewrite(editable_content / HOW_MEMORY, lambda d: d["outcomes"][0]["lenses"].pop())
    result = cli.invoke(args=["tracker", "content", "check", str(editable_content)])
    assert result.exit_code == 0, result.output
    lines = summary_lines(result.output)
    assert lines[0] == f"content OK: {editable_content}"
    assert "lenses: 20 files, 20 placements (17 required, 3 optional)" in lines
    assert "- how-memory-works: 3 LOs, 6 lenses, 5 required" in lines


def test_check_reports_invalid_content(cli, editable_content):
    rewrite(editable_content / VIDEO_LENS, lambda d: d.pop("duration_s"))
    result = cli.invoke(args=["tracker", "content", "check", str(editable_content)])
    assert result.exit_code != 0
    assert f"{VIDEO_LENS}: duration_s" in result.output
    assert "content OK" not in result.output
    assert "Traceback" not in result.output


def test_check_reports_a_missing_directory(cli, tmp_path):
    result = cli.invoke(args=["tracker", "content", "check", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "directory" in result.output
    assert str(tmp_path / "nowhere") in result.output
