"""Benchmark: kit at Playground scale, against scikit-learn, idle and beside a busy core.

It writes a synthetic Playground-style competition into a scratch folder (benchmarks/playground.py:
300,000 training and 200,000 test rows, 20 numbers and 5 categories) and times, each as a whole
process with its peak memory (RSS):

- `kit cv` with linear, nn and deep, 5 folds, 30 epochs, then again with `--ensemble select` (the next
  step of an iteration: every model's CV is reused), and with `--rows` on a sixth of the rows (a quick look);
- scikit-learn's LogisticRegression, 5-fold stratified CV on the same rows (one-hot categories,
  missing values filled), in the same run;
- `kit cv` on 1,000,000 training rows (--million-rows to change, 0 to skip);
- `kit cv` on the definition `kit new` drafts from the same files: its recipe (standardised) and its
  training (up to 100 epochs, chosen by CV, patience 10; the ensemble weighted by CV).

On Titanic (--data-dir) it times the plan 3 models x 5 folds x 10 seeds x 30 epochs batched as `kit cv`
trains it (the models side by side when that pays), on an idle machine and beside a process that keeps one
core busy; the same models one after another; and the article-style one-by-one loop (a fit
per fold and seed, each parameter stepped on its own as the article does; and with kit's update step).
The figures go into BENCHMARKS.md under a "scale" heading for this machine.

    python benchmarks/bench_scale.py --data-dir ../shared/data/titanic
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cv import device_name, load_grid, publish, run_meta, time_batched, time_one_by_one, time_plan  # noqa: E402
from playground import SLUG, write_playground  # noqa: E402

REPO = HERE.parent
SEEDS = 10

# Runs the command given after it and prints its wall time and its peak RSS (the largest of its
# processes, from the kernel's own count) as JSON: a clean measure of one whole process.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
out = done.stdout.strip().splitlines()[-1:] or [""]
print(json.dumps({"rc": done.returncode, "seconds": seconds, "peak_mb": peak_kb / 1024, "out": out[0], "err": done.stderr[-2000:]}))
"""

# scikit-learn's baseline (it prints its mean accuracy): the same CSVs, numbers filled with 0 and categories with their mode (as
# the kit recipe does), categories one-hot, numbers scaled, LogisticRegression in 5-fold stratified CV.
SKLEARN = """
import sys
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.preprocessing import MaxAbsScaler
from sklearn.pipeline import make_pipeline
train = pd.read_csv(sys.argv[1] + "/train.csv")
pd.read_csv(sys.argv[1] + "/test.csv")
y = train.pop("target").to_numpy()
cats = [c for c in train if c.startswith("cat")]
nums = [c for c in train if c.startswith("num")]
x = pd.concat([train[nums].fillna(0), pd.get_dummies(train[cats].fillna(train[cats].mode().iloc[0]))], axis=1)
x = x.to_numpy(dtype="float32")
folds = StratifiedKFold(5, shuffle=True, random_state=42)
scores = cross_val_score(make_pipeline(MaxAbsScaler(), LogisticRegression(max_iter=200)), x, y, cv=folds)
print(f"{scores.mean():.4f}")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/titanic"), help="Titanic's folder")
    parser.add_argument("--rows", type=int, default=300_000, help="training rows of the synthetic competition")
    parser.add_argument("--test-rows", type=int, default=200_000, help="its test rows")
    parser.add_argument("--million-rows", type=int, default=1_000_000, help="training rows of the large case; 0 skips")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of every model in kit cv")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of the Titanic training (median)")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="file to write the section into")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where kit cv trains")
    args, _ = parser.parse_known_args(argv)  # nox -s bench passes bench_cv.py's options here too
    command = shlex.join(["python", "benchmarks/bench_scale.py", *(sys.argv[1:] if argv is None else argv)])
    load_before = os.getloadavg()[0]

    import torch

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        data = write_playground(folder, args.rows, args.test_rows)
        kit = _measure(_kit_cv(args.epochs, args.device), folder)
        # the next step of an iteration: the same models ensembled otherwise, every model's CV reused (kit.cv_cache)
        again = _measure([*_kit_cv(args.epochs, args.device), "--ensemble", "select"], folder)
        sample = max(1, args.rows // 6)  # a quick look: a sixth of the rows (50,000 of 300,000)
        quick = _measure([*_kit_cv(args.epochs, args.device), "--rows", str(sample)], folder)
        sk = _measure([sys.executable, "-c", SKLEARN, str(data)], folder)
        drafted = _measure(_drafted_cv(folder, data, args.device), folder)
        shape = f"{args.rows:,} train / {args.test_rows:,} test rows"
        rows += [
            (
                f"`kit cv`, {shape}, linear+nn+deep, 5 folds, {args.epochs} epochs ({_accuracy(kit)})",
                _process_line(kit),
            ),
            (f"scikit-learn LogisticRegression 5-fold CV, same rows ({sk['out'].strip()})", _process_line(sk)),
            ("kit / LogisticRegression wall time", f"{kit['seconds'] / sk['seconds']:.1f}x (goal <= 3x)"),
            _floor_row(data, args.rows, args.test_rows, args.epochs, kit, sk),
            (
                "`kit cv` again in the same folder with `--ensemble select` (every model's CV reused, nothing trained)",
                f"{_process_line(again)}; {again['seconds'] / sk['seconds']:.1f}x LogisticRegression",
            ),
            (
                f"`kit cv --rows {sample:,}`, a quick look on rows drawn at random, same plan ({_accuracy(quick)})",
                f"{_process_line(quick)}; {quick['seconds'] / sk['seconds']:.1f}x LogisticRegression on every row",
            ),
            (
                f"`kit cv` on the definition `kit new` drafts (standardised inputs, up to 100 epochs chosen by CV, "
                f"patience 10, ensemble weights chosen by CV; {_accuracy(drafted)})",
                f"{_process_line(drafted)}; {drafted['seconds'] / sk['seconds']:.1f}x LogisticRegression",
            ),
        ]
        if args.million_rows:
            write_playground(folder, args.million_rows, args.test_rows)
            big = _measure(_kit_cv(args.epochs, args.device), folder)
            rows.append(
                (f"`kit cv`, {args.million_rows:,} train rows, same plan ({_accuracy(big)})", _process_line(big))
            )

    grid = load_grid(args.data_dir.resolve(), torch.device("cpu"))
    idle = time_plan(grid, SEEDS, args.repeats, torch.device("cpu"))
    with _busy_core():
        busy = time_plan(grid, SEEDS, args.repeats, torch.device("cpu"))
    serial = time_batched(grid, SEEDS, args.repeats, torch.device("cpu"))["total"]
    loop = time_one_by_one(grid, max(1, args.repeats // 2), torch.device("cpu"))
    loop_kit_step = time_one_by_one(grid, max(1, args.repeats // 2), torch.device("cpu"), article_update=False)
    t_idle, t_busy, t_serial = (statistics.median(t) for t in (idle, busy, serial))
    t_loop, t_kit_step = (statistics.median(t["total"]) for t in (loop, loop_kit_step))
    rows += [
        ("Titanic plan (150 fits) batched on the CPU as `kit cv` trains it, idle", f"{t_idle * 1000:,.0f} ms"),
        ("same, one core kept busy by another process", f"{t_busy * 1000:,.0f} ms ({t_busy / t_idle:.2f}x idle; goal <= 1.5x)"),
        ("same, the models one after another, idle", f"{t_serial * 1000:,.0f} ms"),
        ("same, article-style loop, idle", f"{t_loop * 1000:,.0f} ms (batched {t_loop / t_idle:.1f}x faster; goal >= 8x; one after another {t_loop / t_serial:.1f}x)"),
        ("same loop with kit's update step", f"{t_kit_step * 1000:,.0f} ms (batched {t_kit_step / t_idle:.1f}x faster)"),
    ]  # fmt: skip

    # kit cv's figures are the device's; the Titanic rows below them always train on the CPU
    header = f"## scale, {args.device}: {device_name(torch.device(args.device))}, {os.cpu_count()} cores"
    meta = run_meta(f"torch {torch.__version__}, Python {platform.python_version()}", command, load_before)
    publish(args.out, header, meta, rows)
    return 0


def _floor_row(data: Path, n_train: int, n_test: int, epochs: int, kit: dict, sk: dict) -> tuple[str, str]:
    """The least time the plan's matrix products could take on this CPU, whatever kit did around them.

    Its multiply-adds (every fold's training rows forward and back each epoch, the validation rows forward
    each epoch, the test rows forward once per fold; no gradient for the inputs) at the rate one core
    multiplies the first layer's matrices when nothing else runs, on every core at once with no loss; then
    added to the time `kit cv` spent outside training in the same run, as a ratio to LogisticRegression's.
    """
    import pandas as pd

    from kit.train import DEFAULT_HIDDEN, EPOCH_STEPS

    cats = [c for c in pd.read_csv(data / "train.csv", nrows=0) if c.startswith("cat")]
    n_numbers = len(pd.read_csv(data / "train.csv", nrows=0).columns) - len(cats) - 2  # less the id and target
    n_in = n_numbers + int(pd.read_csv(data / "train.csv", usecols=cats).nunique().sum())  # the one-hot width
    n_fit, n_valid, folds = n_train * 4 // 5, n_train // 5, 5
    macs = 0
    for model in ("linear", "nn", "deep"):
        sizes = [n_in, *DEFAULT_HIDDEN[model], 1]
        forward = sum(a * b for a, b in zip(sizes, sizes[1:]))
        backward = 2 * forward - n_in * sizes[1]  # the inputs need no gradient
        macs += folds * (epochs * (n_fit * (forward + backward) + n_valid * forward) + n_test * forward)
    rate = _matmul_rate(n_in, -(-n_fit // EPOCH_STEPS))
    cores = os.cpu_count()
    floor = macs / rate / cores
    outside = kit["seconds"] - json.loads(kit["out"])["fit_seconds"]
    return (
        f"the plan's matrix products alone ({macs * 2 / 1e12:.2f} TFLOP) at this CPU's best rate "
        f"({rate * 2 / 1e9:.0f} GFLOP/s a core, {cores} cores, nothing else), plus kit's time outside training",
        f"{floor:.1f} s + {outside:.1f} s: at least {(floor + outside) / sk['seconds']:.1f}x LogisticRegression",
    )


def _matmul_rate(n_in: int, batch: int) -> float:
    """Multiply-adds a second on one thread for the first layer of nn and deep: 5 folds' 32 x n_in weights by a batch."""
    import torch

    w, x = torch.randn(5, 32, n_in), torch.randn(5, n_in, batch)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        torch.bmm(w, x)
        times.append(time.perf_counter() - start)
    torch.set_num_threads(before)
    return 5 * 32 * n_in * batch / min(times)


def _drafted_cv(folder: Path, data: Path, device: str) -> list[str]:
    """`kit cv` on the definition `kit new` drafts from the same files (its recipe and [training]), written first."""
    command = [sys.executable, "-m", "kit", "new", "drafted", "--data-dir", str(data)]
    subprocess.run(command, cwd=folder, check=True, capture_output=True)
    plan = ["--models", "linear,nn,deep", "--folds", "5", "--device", device, "--quiet", "--json"]
    return [sys.executable, "-m", "kit", "cv", "-c", "drafted", "--data-dir", str(data), *plan]


def _kit_cv(epochs: int, device: str = "cpu") -> list[str]:
    plan = [
        "--models",
        "linear,nn,deep",
        "--folds",
        "5",
        "--epochs",
        str(epochs),
        "--device",
        device,
        "--quiet",
        "--json",
    ]
    return [sys.executable, "-m", "kit", "cv", "-c", SLUG, *plan]


def _measure(command: list[str], cwd: Path) -> dict:
    """Wall seconds and peak RSS of `command` as a whole process, run in `cwd`; stops the benchmark if it fails."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd, capture_output=True, text=True)
    result = json.loads(done.stdout.splitlines()[-1]) if done.stdout else {"rc": done.returncode, "err": done.stderr}
    result["load"] = os.getloadavg()[0]  # other processes' share of the cores while it ran (1 min)
    if result["rc"] != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{result['err']}")
    return result


def _process_line(result: dict) -> str:
    line = f"{result['seconds']:.1f} s wall, peak RSS {result['peak_mb'] / 1024:.2f} GB, load {result['load']:.1f}"
    if result["out"].startswith("{"):  # kit cv --json: the time its models trained, the rest being reading and encoding
        report = json.loads(result["out"])
        if set(report.get("reused", ())) == set(report["models"]):  # kit.cv_cache: every model loaded
            line += " (nothing trained)"
        else:
            line += f" (training {report['fit_seconds']:.1f} s)"
    return line


def _accuracy(result: dict) -> str:
    """The CV accuracy `kit cv --json` printed: the ensemble's, then each model's."""
    report = json.loads(result["out"])
    models = ", ".join(f"{name} {r['mean']:.4f}" for name, r in report["models"].items())
    return f"ensemble {report['ensemble']['mean']:.4f}; {models}"


def _spin() -> None:
    while True:
        pass


class _busy_core:
    """A process that keeps one core busy for the duration of the block, like a browser tab would."""

    def __enter__(self):
        self.process = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
        self.process.start()
        time.sleep(0.5)  # let it take its core
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.join()


if __name__ == "__main__":
    sys.exit(main())
