"""What a user can do about a problem, in the command line's words: the flags and commands that fix it.

The core raises `KitError(fact, fix=KEY, **values)` with the fact alone; only the CLI layer (kit.cli,
kit.commands and this table) names a flag or a command (tests/test_fixes.py checks). The CLI prints
`error: <fact>; <fix>.`. The few core functions that write a line for the terminal themselves (a fetch
with nothing to do, `doctor`, `list`, `report`) word their fix here too, through `worded`.
"""

from __future__ import annotations

FIXES = {  # key -> what to do, formatted with the values the KitError carries
    # the data
    "fetch": "run `kit fetch -c {slug}`",
    "fetch_or_data_dir": "run `kit fetch -c {slug}` or pass --data-dir DIR with the competition's files",
    "refetch": "run `kit fetch -c {slug} --force`",
    "refetch_or_data_dir": "run `kit fetch -c {slug} --force` or pass --data-dir DIR",
    "refetch_or_allow_changed": "run `kit fetch -c {slug} --force` to download it again, "
    "or pass --allow-changed-data if you changed it on purpose",
    "download_again": "download it again (`kit fetch --force`)",
    "fix_the_file": "fix the file, or put the competition's own download in its place",
    "save_with_commas": "save it with commas, or put the competition's own download in its place",
    "download_later": "try `kit fetch -c {slug} --force` again later",
    "force_download": "use --force to download again",
    "other_data_dir": "check it or pass another --data-dir",
    "move_or_other_data_dir": "move it away or pass another --data-dir",
    "data_dir_alone": "pass --data-dir a folder for the competition's files alone, such as data/<slug>",
    "data_dir_csvs": "pass --data-dir DIR holding the competition's CSVs",
    "extract": "extract it into {folder} (kit reads plain CSVs), then run again",
    "extract_to_folder": "extract it into a folder (kit reads plain CSVs) and pass that folder: --data-dir DIR",
    "check_columns": "check the file or the competition definition",
    # the same, when no -c was given: the files were read as the default competition's
    "check_columns_default": "no -c was given, so the files were read as the default competition, {slug}: name yours with "
    "-c SLUG (`kit list` shows them; `kit new SLUG --data-dir DIR` drafts a definition)",
    "check_columns_yours": "no -c was given, so the files were read as the default competition, {slug}: for yours pass "
    "{yours}",
    "without_account": "without an account, `kit run{competition} --data-dir DIR` trains and writes the submission from a "
    "folder DIR that already holds the competition's files",
    # kit submit FILE without one: the file is made; what is left is the upload (a trial was told to train again)
    "submit_by_hand": "without an account, `kit submit {file}{competition} --check` runs every check an upload makes and sends "
    "nothing; then upload the file on the competition's Submit page",
    "new_definition": "write one with `kit new SLUG --data-dir DIR`",
    "near_definition": "did you mean {slug}? pass -c {slug} (`kit new {given} --data-dir DIR` drafts another)",
    "new_definition_for": "draft one with `kit new {slug} --data-dir DIR`, DIR holding its CSVs, or pass the path of a "
    ".toml definition",
    "record_runs": "run `kit cv` or `kit submission`",
    "record_runs_for": "run `kit cv -c {slug}` or `kit submission -c {slug}`",
    # the definition `kit new` drafts
    "closest_metric": "pass --metric {closest} if that is the one you meant",
    "known_metric": "pass --metric one of them",
    # training
    "fewer_folds": "pass --folds {rows} or fewer",
    "random_split_folds": "leave out --folds, or pass --split kfold, stratified or group to score folds",
    "device_cpu": "use --device cpu, or install a CUDA build of torch on a machine with a GPU",
    # the submission file
    "out_csv": "a submission is a CSV, so pass --out <name>.csv",
    "out_file": "give --out a file name ending in .csv",
    "other_out": "choose another --out",
    "other_out_or_move": "choose another --out or move that file aside",
    # the out-of-fold predictions file
    "oof_csv": "out-of-fold predictions are written as a CSV, so pass --oof <name>.csv",
    "oof_file": "give --oof a file name ending in .csv",
    "other_oof": "choose another --oof",
    "other_oof_or_move": "choose another --oof or move that file aside",
    "other_notebook_out": "pass --out a folder of its own for the notebook, or move those files aside",
    # sending it
    "submission_csv": "pass the CSV that `kit submission` wrote",
    "resend": "use --force to send it again",
    "follow": "follow it with `kit submissions -c {slug}`",
    "follow_or_wait_longer": "follow it with `kit submissions -c {slug}`, or wait longer with --wait-timeout",
    "look_then_resend": "`kit submissions -c {slug}` shows whether it is there (if not, send it again with --force)",
    "notebook_later": "check it on Kaggle later, or wait longer with --wait-timeout",
}


def worded(fact: str, fix: str | None = None, **values) -> str:
    """`<fact>; <fix in words>`, or the fact alone when there is no fix."""
    # {competition}: " -c SLUG" where the command named one (kit.cli fills it in), so the command given runs as is
    return f"{fact.rstrip('.')}; {FIXES[fix].format(**({'competition': ''} | values))}" if fix else fact


def sentence(e: BaseException) -> str:
    """An error as users read it: its fact, then its fix in words (kit.KitError, kit.submit.Interrupted)."""
    fix = getattr(e, "fix", None)
    return worded(str(e), fix, **e.values) + "." if fix else str(e)
