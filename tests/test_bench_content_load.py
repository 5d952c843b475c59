"""bench.content_load: its generated vault loads with no error and holds what was generated; the bench runs.

Small sizes only, and no timing: how fast a vault loads is the bench's output, never an assertion.
"""
import subprocess
import sys

from bench import ROOT
from bench.content_load import generate_vault
from tracker.content.vault.loader import load_vault


def files_of(root):
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_a_small_generated_vault_loads_with_no_error_and_holds_every_module_lo_and_lens(tmp_path):
    generated = generate_vault(tmp_path / "vault", modules=6, lenses=40, seed=3)
    loaded = load_vault(tmp_path / "vault")

    assert loaded.errors == ()
    index = loaded.index
    assert len(index.courses) == generated.courses == 2
    assert len(index.modules) == generated.modules == 6
    assert len(list((tmp_path / "vault" / "Lenses").glob("*.md"))) == generated.lens_files == 40
    assert len(index.lenses) == generated.lenses == 40 + generated.inline_lenses
    outcomes = {lo for module in index.modules for outcome in module.outcomes for lo in outcome.member_ids}
    assert len(outcomes) == generated.outcomes == len(list((tmp_path / "vault" / "Learning Outcomes").glob("*.md")))
    assert len(list((tmp_path / "vault" / "articles").glob("*.md"))) == generated.articles
    assert len(list((tmp_path / "vault" / "video_transcripts").glob("*.timestamps.json"))) == generated.timestamps


def test_the_same_seed_writes_the_same_vault_and_another_seed_another(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate_vault(tmp_path / name, modules=3, lenses=12, seed=seed)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert files_of(tmp_path / "a") != files_of(tmp_path / "c")


def test_the_bench_runs_end_to_end_at_a_small_size(tmp_path):
    vault = tmp_path / "kept"
    result = subprocess.run(
        [sys.executable, "-m", "bench.content_load", "--modules", "6", "--lenses", "40", "--repeat", "1",
         "--target-s", "0", "--quiet-wait-s", "0", "--profile", "3", "--vault", str(vault)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "6 modules" in out and "0 errors" in out
    for measurement in ("load_vault, cold", "load_vault, warm", "fingerprint(), warm", "fingerprint(), cold", "peak RSS"):
        assert measurement in out
    assert "cProfile of one warm load" in out
    assert load_vault(vault).errors == ()  # --vault keeps what was generated

    again = subprocess.run(
        [sys.executable, "-m", "bench.content_load", "--vault", str(vault), "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert again.returncode == 2 and "--existing" in again.stderr  # a vault is never generated over another
