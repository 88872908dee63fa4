"""The benchmark scripts (`nox -s bench`) still run end to end: each writes its section with every figure.

Tiny settings, so this checks that they work, not what they measure (BENCHMARKS.md holds the figures).
"""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def _bench(script: str, *args: str, cwd) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args], cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_cv_writes_its_section_with_the_batched_and_one_by_one_figures(titanic_dir, tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    args = ["--data-dir", str(titanic_dir), "--repeats", "1", "--loop-repeats", "1", "--cli-repeats", "1"]
    _bench("bench_cv.py", *args, "--out", str(out), cwd=tmp_path)
    text = out.read_text()
    assert text.startswith("# Benchmarks") and "\n## cpu: " in text
    rows = ("| batched, as `kit cv` trains the plan", "| batched, one model after another", "the article's update) |",
            "| speed-up, as `kit cv` trains it |", "`python -m kit --help`")  # fmt: skip
    for row in rows:
        assert row in text, row


def test_bench_scale_writes_its_section_against_scikit_learn_and_beside_a_busy_core(titanic_dir, tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nkept\n\n## other\n\nkept too\n")
    args = ["--data-dir", str(titanic_dir), "--rows", "3000", "--test-rows", "1000", "--million-rows", "0"]
    _bench("bench_scale.py", *args, "--epochs", "2", "--repeats", "1", "--out", str(out), cwd=tmp_path)
    text = out.read_text()
    assert "kept\n" in text and "## other\n\nkept too" in text  # the other sections stay
    assert "\n## scale, cpu: " in text
    for row in ("`kit cv`, 3,000 train / 1,000 test rows", "(training ", "LogisticRegression 5-fold CV, same rows",
                "the definition `kit new` drafts", "the plan's matrix products alone", "every model's CV reused, nothing trained", "a quick look on rows drawn at random", "one core kept busy by another process", "the models one after another, idle",
                "article-style loop, idle"):  # fmt: skip
        assert row in text, row
    assert not list(tmp_path.glob("*.csv")) and not (tmp_path / "competitions").exists()  # its data went with it
