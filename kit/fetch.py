"""Getting a competition's files into data/<slug>/, safely and only when needed.

The zip is downloaded into a temp folder beside the target, checked (readable, CRCs, no member
outside the folder, a sane total size), extracted there, recorded in a manifest of sha256 sums,
and only then renamed into place: an interrupted or failed fetch leaves no half folder.
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
from kit.competition import Competition, sha256_file
from kit.kaggle_client import in_kaggle_notebook, kaggle_root
from kit.progress import show_progress

MANIFEST = "kit-manifest.json"
MAX_UNZIPPED_BYTES = int(os.environ.get("KIT_MAX_UNZIPPED_BYTES", 20 * 2**30))  # a zip bomb stops here


def fetch(comp: Competition, data_dir: Path, force: bool = False, client=None, quiet: bool = False) -> Path:
    """Make the competition's files present and intact in data_dir; returns the folder to read."""
    if in_kaggle_notebook():
        mounted = kaggle_root() / "input" / comp.slug
        if not (mounted / comp.files["train"]).is_file():
            raise KitError(
                f"{mounted} has no {comp.files['train']}; add the competition {comp.slug} as notebook input."
            )
        print(f"kit: inside a Kaggle notebook; reading {mounted}, nothing downloaded", file=sys.stderr)
        return mounted
    data_dir = Path(data_dir)
    if not force and intact(data_dir):
        print(
            f"kit: {data_dir} is present and intact; nothing downloaded (use --force to download again)",
            file=sys.stderr,
        )
        return data_dir
    if client is None:
        from kit.kaggle_client import Kaggle

        client = Kaggle()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(data_dir)
    with tempfile.TemporaryDirectory(prefix=f".{data_dir.name}.fetch-", dir=data_dir.parent) as tmp:
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
        write_manifest(files, comp.slug)
        if data_dir.exists():
            data_dir.rename(Path(tmp) / "previous")  # removed with the temp folder
        files.rename(data_dir)
    print(f"kit: {comp.slug} files are in {data_dir}", file=sys.stderr)
    return data_dir


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


def write_manifest(folder: Path, slug: str) -> None:
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    manifest = {"competition": slug, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def intact(folder: Path) -> bool:
    """True when the folder's manifest lists files that are all present with their recorded sha256."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(files) and all(
        (Path(folder) / name).is_file() and sha256_file(Path(folder) / name) == digest for name, digest in files.items()
    )


def data_status(comp: Competition, folder: Path) -> tuple[str, bool]:
    """One line on the state of the data folder, for `kit doctor`, and whether it is usable."""
    folder = Path(folder)
    if not folder.is_dir():
        return f"{folder} does not exist; run `kit fetch -c {comp.slug}`", False
    if (folder / MANIFEST).is_file():
        if intact(folder):
            return f"{folder} is present and intact", True
        return f"{folder} has changed or damaged files; run `kit fetch -c {comp.slug} --force`", False
    missing = [name for name in comp.files.values() if not (folder / name).is_file()]
    if missing:
        return f"{folder} lacks {', '.join(missing)}; run `kit fetch -c {comp.slug}`", False
    return f"{folder} has the files but no manifest (not fetched by kit), so they cannot be verified", True


def _remove_stale_temps(data_dir: Path) -> None:
    """Temp folders a killed fetch left behind."""
    for stale in data_dir.parent.glob(f".{data_dir.name}.fetch-*"):
        shutil.rmtree(stale, ignore_errors=True)
