"""Benchmark: cross-validation fits batched (the grid of kit.train.fit) against the same fits one by one.

For the plan 3 models (linear, nn, deep) x 5 folds x 10 seeds x 30 epochs on the Titanic training
rows (the article preset), it prints the fits per second of the plan trained as `kit cv` trains it (one `fit`
per model, every fold and seed of it as one grid, the models side by side when that pays), of the same
fits one model after another, and of one `fit` per fold and seed (grids of one), measured in the same run; the
whole-process wall time of `python -m kit cv` with that plan and of `python -m kit --help`; and,
on CUDA (or with --sweep), a seed sweep of 3 models x 5 folds x 1000 seeds. The figures go into
BENCHMARKS.md under a heading for this device; sections for other devices are kept.

    python benchmarks/bench_cv.py --data-dir ../shared/data/titanic [--device cuda]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL_NAMES = ("linear", "nn", "deep")
FOLDS, SEEDS, INIT_SEED = 5, 10, 442


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/titanic"), help="Titanic's folder")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the fits train")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of the batched fits (median)")
    parser.add_argument("--loop-repeats", type=int, default=3, help="timed runs of the one-by-one loop (median)")
    parser.add_argument("--cli-repeats", type=int, default=5, help="timed runs of `python -m kit cv` (median)")
    parser.add_argument("--sweep", action="store_true", help="run the seed sweep on the CPU too (always on CUDA)")
    parser.add_argument("--sweep-seeds", type=int, default=1000, help="seeds per fold in the sweep")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="file to write the section into")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_cv.py", *(sys.argv[1:] if argv is None else argv)])
    data_dir = args.data_dir.resolve()
    load_before = os.getloadavg()[0]

    import torch

    from kit import KitError
    from kit.batched import resolve_device

    try:
        device = resolve_device(args.device)
    except KitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"device: {device_name(device)}; torch {torch.__version__}; {os.cpu_count()} cores", flush=True)
    grid = load_grid(data_dir, device)
    batched = time_batched(grid, SEEDS, args.repeats, device)
    plan = time_plan(grid, SEEDS, args.repeats, device)
    loop = time_one_by_one(grid, args.loop_repeats, device)
    loop_kit_step = time_one_by_one(grid, args.loop_repeats, device, article_update=False)
    n_fits = len(MODEL_NAMES) * FOLDS * SEEDS
    rows = [
        ("fits", f"{len(MODEL_NAMES)} models x {FOLDS} folds x {SEEDS} seeds x 30 epochs = {n_fits} fits"),
        ("batched, as `kit cv` trains the plan (models side by side when that pays)", _fits_line(n_fits, plan)),
        ("batched, one model after another (one fit per model)", _fits_line(n_fits, batched)),
        ("one by one (a fit per fold and seed, the article's update)", _fits_line(n_fits, loop)),
        ("speed-up, as `kit cv` trains it", f"{statistics.median(loop['total']) / statistics.median(plan):.1f}x"),
        (
            "speed-up, one model after another",
            f"{statistics.median(loop['total']) / statistics.median(batched['total']):.1f}x",
        ),
        ("one by one with kit's update step", _fits_line(n_fits, loop_kit_step)),
    ]
    for name in MODEL_NAMES:
        rows.append((f"{name}, {FOLDS * SEEDS} fits", f"batched {_ms(batched[name])}, one by one {_ms(loop[name])}"))
    if args.sweep or device.type == "cuda":
        sweep = time_batched(grid, args.sweep_seeds, 3, device)
        n_sweep = len(MODEL_NAMES) * FOLDS * args.sweep_seeds
        label = f"seed sweep, {len(MODEL_NAMES)} x {FOLDS} x {args.sweep_seeds} = {n_sweep} fits"
        rows.append((label, _fits_line(n_sweep, sweep)))
    rows += cli_rows(data_dir, args.device, args.cli_repeats)

    # Other processes on the machine slow both sides, and the batched side far more (its thread
    # pool waits on busy cores), so the load around the run is part of the record.
    machine = (
        f"torch {torch.__version__} with {torch.get_num_threads()} threads{_omp_env()}, device {device_name(device)}"
    )
    publish(args.out, device_heading(device), run_meta(machine, command, load_before), rows)
    return 0


def run_meta(machine: str, command: str, load_before: float) -> list[str]:
    """The lines under a section's heading: when, on what, by which command, and how loaded the machine was."""
    return [
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {os.cpu_count()} cores ({platform.machine()}), {machine}",
        f"- command: `{command}` (run from the repository root)",
        f"- load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)",
    ]


def load_grid(data_dir: Path, device):
    """The CV plan's folds, each fold's recipe fit on its training rows, stacked padded on `device`."""
    import torch

    from kit.batched import pad_rows
    from kit.competition import load_competition, read_train_test, target_vector
    from kit.recipe import apply_recipe, fit_recipe
    from kit.validation import Plan, split_indices

    comp = load_competition("titanic")
    spec = comp.recipe()
    train, _ = read_train_test(comp, data_dir, spec)
    y = torch.tensor(target_vector(comp, train))
    folds = split_indices(Plan(folds=FOLDS), y)  # the CLI's default: stratified 5-fold, split seed 42
    xs, ys = [], []
    for train_idx, _ in folds:
        rows = train.iloc[train_idx.numpy()]
        xs.append(apply_recipe(spec, fit_recipe(spec, rows), rows).to(device))  # (n_f, n_features)
        ys.append(y[train_idx].to(device))  # (n_f,)
    x, mask = pad_rows(xs)
    return {"xs": xs, "ys": ys, "x": x, "y": pad_rows(ys)[0], "mask": mask}


def time_batched(grid, n_seeds: int, repeats: int, device) -> dict:
    """Seconds per run of every fold and seed of each model in one `fit` call."""
    from kit.train import fit

    seeds = [INIT_SEED + i for i in range(n_seeds)]

    def train(settings) -> None:
        fit(settings, _binary(), grid["x"], grid["y"], grid["mask"], seeds=seeds)

    return _timed(train, repeats, device)


def time_plan(grid, n_seeds: int, repeats: int, device) -> list[float]:
    """Seconds per run of the whole plan trained as `kit cv` trains it: every fold and seed of a model in one
    `fit`, and the models side by side, one per core, when kit.threads.model_workers says they pay (else one
    after another), the larger first."""
    from kit.threads import run_each
    from kit.train import Training, fit
    from kit.validation import training_schedule

    seeds = [INIT_SEED + i for i in range(n_seeds)]
    n_folds, n_rows, width = grid["x"].shape
    settings = {name: Training(preset="article").settings(name) for name in MODEL_NAMES}
    order, workers = training_schedule(settings, n_rows, width, 1, n_folds * n_seeds, device)
    x, y, mask = grid["x"], grid["y"], grid["mask"]
    jobs = [partial(fit, settings[name], _binary(), x, y, mask, seeds=seeds) for name in order]
    times = []
    for run in range(repeats + 1):
        _sync(device)
        start = time.perf_counter()
        run_each(jobs, workers)
        _sync(device)
        if run:  # run 0 warms up
            times.append(time.perf_counter() - start)
    return times


def time_one_by_one(grid, repeats: int, device, article_update: bool = True) -> dict:
    """Seconds per run of the same fits in the article's style: `fit` once per fold and seed (grids of one).

    article_update: each parameter stepped on its own, `p -= lr * p.grad`, as the article writes it; else
    kit's own step (kit.optim), which updates every parameter (one block) in one call per line.
    """
    import torch

    import kit.train
    from kit.train import fit

    seeds = [INIT_SEED + i for i in range(SEEDS)]

    def train(settings) -> None:
        for x, y in zip(grid["xs"], grid["ys"]):
            for seed in seeds:
                fit(settings, _binary(), x[None], y[None], torch.ones(1, len(y), device=x.device), seeds=[seed])

    kit_init_state, kit_step = kit.train.init_state, kit.train.step

    def init_state_each(opt, params: dict) -> tuple[dict, dict]:
        params, state = kit_init_state(opt, params)
        state["each"] = [p for p in params.values() if p.requires_grad]  # for the article's update, one by one
        return params, state

    if article_update:
        kit.train.init_state, kit.train.step = init_state_each, _article_step
    try:
        return _timed(train, repeats, device)
    finally:
        kit.train.init_state, kit.train.step = kit_init_state, kit_step


def _article_step(opt, state: dict) -> None:
    """The article's update: plain gradient descent, one parameter at a time (the article preset's optimiser)."""
    import torch

    assert opt.name == "sgd" and not opt.weight_decay, "the article's loop trains with plain gradient descent"
    with torch.no_grad():
        for p in state["each"]:
            p.sub_(p.grad * opt.lr)
            p.grad.zero_()


def _timed(train, repeats: int, device) -> dict:
    """{model name: seconds per run, "total": seconds per run over all models}, after one warm-up run."""
    from kit.train import Training

    times = {name: [] for name in [*MODEL_NAMES, "total"]}
    for run in range(repeats + 1):
        seconds = {}
        for name in MODEL_NAMES:
            _sync(device)
            start = time.perf_counter()
            train(Training(preset="article").settings(name))
            _sync(device)  # a GPU's queued work counts
            seconds[name] = time.perf_counter() - start
        if run:  # run 0 warms up: allocator, thread pool, CUDA context
            for name, value in seconds.items():
                times[name].append(value)
            times["total"].append(sum(seconds.values()))
    return times


def _binary():
    from kit.task import METRICS, Task

    return Task("binary", METRICS["accuracy"], ("0", "1"))


def cli_rows(data_dir: Path, device: str, repeats: int) -> list[tuple[str, str]]:
    """Whole-process wall times of `python -m kit cv` with the plan and of `python -m kit --help`.

    They run in a scratch folder, so the run ledger `kit cv` keeps (submissions/) is not touched.
    """
    plan = ["--models", ",".join(MODEL_NAMES), "--folds", str(FOLDS), "--seeds", str(SEEDS)]
    # the plan timed above, whatever Titanic's definition now chooses: the article's recipe and training
    plan += ["--recipe", "article", "--preset", "article", "--no-choose-epochs"]
    cv = [sys.executable, "-m", "kit", "cv", *plan, "--data-dir", str(data_dir)]
    note = ""
    if device != "cpu":
        if "--device" in _run([sys.executable, "-m", "kit", "cv", "--help"])[0]:
            cv += ["--device", device]
        else:
            note = " (on the CPU: this kit cv has no --device option yet)"
    cv_times = [_wall(cv) for _ in range(repeats)]
    help_times = [_wall([sys.executable, "-m", "kit", "--help"]) for _ in range(10)]
    shown = shlex.join(["python", *cv[1:]]).replace(str(data_dir), "DATA")
    return [
        (f"`{shown}`", f"{statistics.median(cv_times):.2f} s wall, median of {repeats}{note}"),
        ("`python -m kit --help`", f"{statistics.median(help_times):.3f} s wall, median of 10"),
    ]


def _wall(command: list[str]) -> float:
    return _run(command)[1]


def _run(command: list[str]) -> tuple[str, float]:
    """(stdout, wall seconds) of `command`, run in a scratch folder; stops the benchmark if it fails."""
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{done.stderr[-2000:]}")
    return done.stdout, seconds


def _omp_env() -> str:
    """OpenMP settings from the environment, which change the CPU figures a lot (see BENCHMARKS.md)."""
    set_here = [f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY") if k in os.environ]
    return f" ({', '.join(set_here)})" if set_here else ""


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _fits_line(n_fits: int, times: dict | list) -> str:
    runs = times["total"] if isinstance(times, dict) else times
    seconds = statistics.median(runs)
    return f"{n_fits / seconds:,.0f} fits/s ({seconds * 1000:,.0f} ms, median of {len(runs)})"


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:,.0f} ms"


def device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def device_heading(device) -> str:
    return f"## {device.type}: {device_name(device)}, {os.cpu_count()} cores"


def publish(out: Path, header: str, meta: list[str], rows: list[tuple[str, str]]) -> None:
    """Print a section (its heading, the lines saying how it was measured, a table of figures) and write
    it into `out` in place of the section with the same heading."""
    table = ["| measure | figure |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)]
    section = "\n".join([header, "", *meta, "", *table, ""])
    print(section)
    write_section(out, header, section)
    print(f"wrote {out}")


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section under `heading` (up to the next `## ` line), or append it; keep the others."""
    intro = (
        "# Benchmarks\n\nWritten by `benchmarks/bench_cv.py` (`nox -s bench -- --data-dir ...`). "
        "Each section is one device and is rewritten when the script runs there.\n"
    )
    text = path.read_text() if path.is_file() else intro
    head, *sections = text.split("\n## ")
    sections = ["## " + s.strip() + "\n" for s in sections]
    kept = [s for s in sections if s.splitlines()[0] != heading] + [section.strip() + "\n"]
    path.write_text(head.strip() + "\n\n" + "\n".join(kept))


if __name__ == "__main__":
    sys.exit(main())
