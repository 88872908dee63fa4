"""Getting a competition's files into data/<slug>/, safely and only when needed; checking them before use.

The zip is downloaded into a temp folder inside the data folder, checked (readable, CRCs, no member
outside the folder, a sane total size) and extracted there. Only then are the competition's own files
moved into place, one by one, and recorded in `kit-manifest.json` (name -> sha256); so are the extra files
([files] extra) taken from the dataset that `[extra] dataset` names, downloaded and checked the same way. kit replaces
only files its manifest lists and never deletes anything else in the folder: a file of the same name
that kit did not write stops the fetch. A fetch that fails removes what it created and nothing else.
Commands that read the data first check it against the manifest (`verify_data`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from kit import KitError
from kit.competition import PACKAGE_ROOT, Competition, sha256_file
from kit.fixes import worded
from kit.paths import in_kaggle_notebook, kaggle_root
from kit.progress import show_progress

MANIFEST = "kit-manifest.json"
MAX_UNZIPPED_BYTES = int(os.environ.get("KIT_MAX_UNZIPPED_BYTES", 20 * 2**30))  # a zip bomb stops here
TEMP_PREFIX = ".kit-fetch-"  # temp folders inside the data folder; a killed fetch's are removed by the next


def fetch(comp: Competition, data_dir: Path, force: bool = False, client=None, quiet: bool = False) -> Path:
    """Make the competition's files present and intact in data_dir; returns the folder to read."""
    if in_kaggle_notebook():
        mounted = kaggle_root() / "input" / comp.slug
        if not (mounted / comp.files["train"]).is_file():
            raise KitError(
                f"{mounted} has no {comp.files['train']}; add the competition {comp.slug} as notebook input."
            )
        folder = kaggle_data_dir(comp)
        print(f"kit: inside a Kaggle notebook; reading {folder}, nothing downloaded", file=sys.stderr)
        return folder
    data_dir = Path(data_dir)
    refuse_unsafe_data_dir(data_dir)
    listed = _listed(data_dir, comp.slug)
    has_extra = not comp.extra_dataset or all(name in listed for name in comp.extra)  # a dataset added later
    if not force and listed and has_extra and intact(data_dir):
        done = worded(f"nothing downloaded: {data_dir} is present and intact", fix="force_download")
        print(f"kit: {done}", file=sys.stderr)
        return data_dir
    if client is None:
        from kit.kaggle_client import Kaggle

        client = Kaggle()
    previous = _listed(data_dir, comp.slug)  # name -> sha256 of what kit put there before: kit may replace these
    created: list[Path] = []  # every folder and file this fetch made, in order; removed again if it fails
    try:
        _make_folder(data_dir, created)
        for stale in data_dir.glob(f"{TEMP_PREFIX}*"):  # what a killed fetch left
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX, dir=data_dir) as tmp:
            zip_path = client.download(comp.slug, Path(tmp) / "download", progress=show_progress(quiet))
            files = Path(tmp) / "files"
            extract_safely(zip_path, files)
            missing = [
                name for role, name in comp.files.items() if role in ("train", "test") and not (files / name).is_file()
            ]
            if missing:
                raise KitError(
                    f"the download for {comp.slug} lacks {', '.join(missing)}; check the competition definition."
                )
            if comp.extra_dataset:
                _add_extra_files(comp, client, Path(tmp), files, quiet)
            new = {p.relative_to(files).as_posix(): sha256_file(p) for p in sorted(files.rglob("*")) if p.is_file()}
            new.pop(MANIFEST, None)  # the name is kit's own
            _refuse_clashes(data_dir, new, previous)
            # While files move the manifest lists old and new names, so a fetch killed halfway leaves
            # only files kit may replace; afterwards it lists exactly the new download.
            _write_manifest(data_dir, comp.slug, previous | new, created)
            for name in new:
                target = data_dir / name
                _make_folder(target.parent, created)
                is_new = not os.path.lexists(target)
                os.replace(files / name, target)
                if is_new:
                    created.append(target)
            _write_manifest(data_dir, comp.slug, new, created)
    except BaseException as e:
        _remove_created(created)
        if isinstance(e, OSError):
            reason = e.strerror or str(e)
            raise KitError(f"cannot write the files into {data_dir} ({reason})", fix="other_data_dir") from None
        raise
    for name, digest in previous.items():  # files of an older download that this one no longer has, if unchanged
        old = data_dir / name
        if name not in new and old.is_file() and sha256_file(old) == digest:
            old.unlink()
    print(f"kit: {comp.slug} files are in {data_dir}", file=sys.stderr)
    return data_dir


def _add_extra_files(comp: Competition, client, tmp: Path, files: Path, quiet: bool) -> None:
    """Put the extra files ([files] extra) from the dataset `[extra] dataset` names beside the competition's
    unpacked files in `files`: each at the top of the dataset, or the one file of its name deeper in it."""
    zip_path = client.download_dataset(comp.extra_dataset, comp.slug, tmp / "dataset", progress=show_progress(quiet))
    unpacked = tmp / "dataset-files"
    extract_safely(zip_path, unpacked)
    for name in comp.extra:
        found = _files_named(name, unpacked)
        if len(found) != 1:
            held = "holds several" if found else "holds no"
            raise KitError(
                f"the dataset {comp.extra_dataset} {held} {name}, which [files] extra names; "
                "check the file name or [extra] dataset."
            )
        if (files / name).exists():
            raise KitError(
                f"the competition's download and the dataset {comp.extra_dataset} both hold {name}; "
                "an extra file needs a name of its own."
            )
        os.replace(found[0], files / name)


def _files_named(name: str, folder: Path, first: Path | None = None) -> list[Path]:
    """Where an extra file is: `first`/name (a dataset's top level) when it is a file, else every file of
    that name under `folder` (a caller takes only exactly one)."""
    top = (first or folder) / name
    return [top] if top.is_file() else sorted(p for p in folder.rglob("*") if p.name == name and p.is_file())


def kaggle_data_dir(comp: Competition) -> Path:
    """The folder kit reads inside a Kaggle notebook: the competition's mounted input, or with extra files
    ([files] extra) a scratch folder linking its files and each extra file found among the notebook's inputs.

    Kaggle mounts every input in a folder of its own (a dataset at input/<its name>/), and kit reads one
    folder; the notebook `kit notebook` builds links them in its first cell, this does it for any other
    notebook that runs kit. The links are made again each time, so the folder always shows the inputs now.
    """
    inputs = kaggle_root() / "input"
    mounted = inputs / comp.slug
    if not comp.extra:
        return mounted
    linked = Path(tempfile.gettempdir()) / f"kit-data-{comp.slug}"
    linked.mkdir(exist_ok=True)
    sources = {p.name: p for p in sorted(mounted.iterdir())} if mounted.is_dir() else {}
    dataset = inputs / comp.extra_dataset.split("/")[1] if comp.extra_dataset else None
    for name in comp.extra:
        found = _files_named(name, inputs, dataset)
        if len(found) != 1:  # none, or several kit cannot choose between (as a fetch refuses them)
            where = f"the dataset {comp.extra_dataset}" if comp.extra_dataset else f"a dataset holding {name}"
            held = "is in several of" if found else "is not in"
            raise KitError(f"{name}, an extra training file, {held} this notebook's inputs; add {where} as input.")
        sources.setdefault(name, found[0])
    for name, source in sources.items():
        link = linked / name
        temp = linked / f".{name}.kit-link"
        temp.unlink(missing_ok=True)
        temp.symlink_to(source.resolve())
        os.replace(temp, link)  # an earlier run's link, replaced at once
    return linked


def refuse_unsafe_data_dir(data_dir: Path) -> None:
    """Refuse a data folder that is or holds the filesystem root, the home folder or kit's checkout."""
    resolved = Path(data_dir).expanduser().resolve()
    cwd = Path.cwd().resolve()
    protected = {Path(resolved.anchor): "the filesystem root", Path.home().resolve(): "your home folder"}
    protected.setdefault(PACKAGE_ROOT, "kit's checkout")
    if (cwd / "competitions").is_dir() or (cwd / ".git").exists():
        protected.setdefault(cwd, "the checkout kit runs in")
    repo = next((d for d in cwd.parents if (d / ".git").exists()), None)  # the repository kit runs in
    if repo is not None:
        protected.setdefault(repo, "the checkout kit runs in")
    for path, what in protected.items():
        if path.is_relative_to(resolved):
            raise KitError(f"the data folder {data_dir} is or holds {what} ({path})", fix="data_dir_alone")


def verify_data(comp: Competition, data_dir: Path, allow_changed: bool = False) -> None:
    """Stop before a command reads files that no longer match the manifest kit wrote when it fetched them.

    A folder without a manifest (files put there by hand, or ../shared) is read as it is. Only the
    competition's own files are hashed: train, test, the sample submission and the extra files kit fetched,
    once per command.
    """
    folder = Path(data_dir)
    if not (folder / MANIFEST).is_file():
        return
    manifest = _read_manifest(folder)
    if manifest is None:
        problem = f"{folder / MANIFEST} is unreadable"
    else:
        listed = manifest["files"]
        names = [name for name in (*comp.files.values(), *comp.extra) if name in listed]
        changed = next((n for n in names if not _matches(folder / n, listed[n])), None)
        if changed is None:
            return
        state = "has changed" if (folder / changed).is_file() else "is missing"
        problem = f"{folder / changed} {state} since kit fetched it (it no longer matches {MANIFEST})"
    if allow_changed:
        print(f"kit: warning: {problem}; reading it anyway, as asked", file=sys.stderr)
        return
    raise KitError(problem, fix="refetch_or_allow_changed", slug=comp.slug)


def extract_safely(zip_path: Path, target: Path) -> None:
    """Extract `zip_path` into `target` after refusing anything unsafe or damaged."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise KitError(
            "the download is truncated or corrupt (not a readable zip); nothing was extracted; run the fetch again."
        ) from None
    with archive:
        members = archive.infolist()
        total = 0
        for info in members:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
                raise KitError(f"the download holds an unsafe path {info.filename!r}; nothing was extracted.")
            total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise KitError(
                f"the download would unpack to {total:,} bytes, over the {MAX_UNZIPPED_BYTES:,} byte cap; "
                "nothing was extracted (raise KIT_MAX_UNZIPPED_BYTES if the competition really is that large)."
            )
        try:
            if archive.testzip() is not None:
                raise zipfile.BadZipFile
            target.mkdir(parents=True)
            for info in members:
                dest = target / PurePosixPath(info.filename.replace("\\", "/"))
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            shutil.rmtree(target, ignore_errors=True)
            raise KitError(
                "the download is corrupt (a member fails its check); nothing was kept; run the fetch again."
            ) from None


def intact(folder: Path) -> bool:
    """True when the folder's manifest lists files that are all present with their recorded sha256."""
    manifest = _read_manifest(Path(folder))
    if manifest is None:
        return False
    files = manifest["files"]
    return bool(files) and all(_matches(Path(folder) / name, digest) for name, digest in files.items())


def data_status(comp: Competition, folder: Path) -> tuple[str, bool]:
    """One line on the state of the data folder, for `kit doctor`, and whether it is usable."""
    folder = Path(folder)
    if folder.is_file():  # a zip, most often, as the data folder
        return worded(f"{folder} is a file, not a data folder", fix="extract_to_folder"), False
    if not folder.is_dir():
        return worded(f"{folder} does not exist", fix="fetch", slug=comp.slug), False
    has_manifest = (folder / MANIFEST).is_file()
    if has_manifest and not intact(folder):
        return worded(f"{folder} has changed or damaged files", fix="refetch", slug=comp.slug), False
    # what a fetch brings: a manifest vouches for the competition's files, but not for the extra files of a dataset
    # named after that fetch
    fetchable = [*(() if has_manifest else comp.files.values()), *(comp.extra if comp.extra_dataset else ())]
    missing = [name for name in fetchable if not (folder / name).is_file()]
    if missing:
        return worded(f"{folder} lacks {', '.join(missing)}", fix="fetch", slug=comp.slug), False
    by_hand = [name for name in comp.extra if not comp.extra_dataset and not (folder / name).is_file()]
    if by_hand:
        return f"{folder} lacks {', '.join(by_hand)}, which [files] extra names; put it there or drop it", False
    if has_manifest:
        return f"{folder} is present and intact", True
    return f"{folder} has the files but no manifest (not fetched by kit), so they cannot be verified", True


def _read_manifest(folder: Path) -> dict | None:
    """The manifest kit wrote in `folder`, or None when there is none or it is not one of kit's."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return manifest


def _listed(folder: Path, slug: str) -> dict:
    """name -> sha256 of the files kit fetched for `slug` into `folder`: the only files a fetch may replace."""
    manifest = _read_manifest(folder)
    return dict(manifest["files"]) if manifest and manifest.get("competition") == slug else {}


def _matches(path: Path, digest: str) -> bool:
    return path.is_file() and sha256_file(path) == digest


def _refuse_clashes(data_dir: Path, new: dict, previous: dict) -> None:
    """Stop before a file of the download, or the manifest, would replace one that kit did not write."""
    for name in new if previous else [*new, MANIFEST]:  # a manifest kit cannot read as this competition's
        if name in previous:
            continue
        target = data_dir / name
        in_the_way = [p for p in (target, *target.parents) if p.is_relative_to(data_dir) and p != data_dir]
        clash = next((p for p in in_the_way if os.path.lexists(p) and (p == target or not p.is_dir())), None)
        if clash is not None:
            raise KitError(
                f"{clash} is already there and kit did not write it (no {MANIFEST} lists it), so nothing was changed",
                fix="move_or_other_data_dir",
            )


def _make_folder(folder: Path, created: list[Path]) -> None:
    """mkdir -p that records each folder it makes."""
    for d in reversed([d for d in (folder, *folder.parents) if not d.exists()]):
        d.mkdir()
        created.append(d)


def _write_manifest(folder: Path, slug: str, files: dict, created: list[Path]) -> None:
    """Write the manifest (temp file + rename), recording it as created if it is new."""
    path = folder / MANIFEST
    is_new = not os.path.lexists(path)
    text = json.dumps({"competition": slug, "files": dict(sorted(files.items()))}, indent=2, sort_keys=True) + "\n"
    with tempfile.NamedTemporaryFile("w", dir=folder, prefix=TEMP_PREFIX, suffix=".json", delete=False) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)
    if is_new:
        created.append(path)


def _remove_created(created: list[Path]) -> None:
    """Undo a failed fetch: remove the files and folders it made, newest first; a folder that is not
    empty (someone else put something there) stays."""
    for path in reversed(created):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        except OSError:
            pass
