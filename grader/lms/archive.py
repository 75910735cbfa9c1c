"""Unpack a platform's submissions archive (.zip) safely, or say why not before any grading.

A download archive comes from the platform, but its members' names and contents come from
students, and a file named .zip may be anything. So: every member name is checked (no absolute
path, no drive, no `..`, backslashes are separators) and must land inside the target folder;
links are not unpacked (a note says so); the archive may hold at most `max_files` members and
unpack to at most `max_bytes`, counted on the bytes really written, not on what the headers
claim; a member over 1 MiB compressed more than `max_ratio` times is a zip bomb. Any of these,
an encrypted member, a CRC error or a file that is no zip is an `LmsError`, never a traceback.
Names stored without Zip's UTF-8 flag are read as UTF-8 where they decode as such (what
platforms and current zip tools write), else as the legacy code page. The same archive always
unpacks to the same bytes, so a rerun finds every notebook's hash again (resume).
"""
from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..options import option
from .platform import LmsError

_CHUNK = 1024 * 1024
_RATIO_FLOOR = 1024 * 1024  # smaller members are not judged by their ratio
_UTF8_FLAG = 0x800
MARKER = ".unpacked-by-grader"  # only a folder holding it is emptied before unpacking


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int = option("archive_max_bytes")
    max_files: int = option("archive_max_files")
    max_ratio: int = option("archive_max_ratio")


@dataclass
class Unpacked:
    folder: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sentences: what was not unpacked and why


def is_archive(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".zip"


def unpack(archive: Path, folder: Path, limits: ArchiveLimits) -> Unpacked:
    """Unpack `archive` into `folder` (emptied first if an earlier run unpacked it there; any
    other existing folder is refused), or LmsError saying what is wrong."""
    try:
        with zipfile.ZipFile(archive) as opened:
            members = _checked(opened, archive, limits)
            if folder.exists():
                if not (folder / MARKER).is_file():
                    raise LmsError(f"{folder} exists and was not unpacked by the grader: it is "
                                   f"not emptied for {archive.name}; choose another --out")
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / MARKER).write_text(f"unpacked from {archive} by the grader; emptied on "
                                         "every run\n")
            done = Unpacked(folder)
            written = 0
            for info, relative in members:
                if _is_link(info):
                    done.skipped.append(f"{archive.name}: {relative} is a link, not unpacked")
                    continue
                target = folder.joinpath(*relative.parts)
                if folder.resolve() not in target.resolve().parents:
                    raise LmsError(f"{archive.name}: the member {info.filename!r} would land "
                                   "outside the folder: the archive is not a platform's download")
                target.parent.mkdir(parents=True, exist_ok=True)
                written = _copy(opened, info, target, written, archive, limits)
                done.files.append(target)
            return done
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise LmsError(f"{archive.name} is not a readable zip archive ({exc}): download it "
                       "from the platform again") from None
    except NotImplementedError as exc:  # a compression method zipfile lacks
        raise LmsError(f"{archive.name} uses an unsupported compression ({exc}): unpack it with "
                       "another tool and pass the folder") from None
    except OSError as exc:
        raise LmsError(f"{archive.name} could not be unpacked into {folder}: "
                       f"{exc.strerror or exc}") from None


def _checked(opened: zipfile.ZipFile, archive: Path,
             limits: ArchiveLimits) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The members to unpack with their safe relative paths; LmsError for a hostile archive."""
    infos = [i for i in opened.infolist() if not i.is_dir()]
    if len(infos) > limits.max_files:
        raise LmsError(f"{archive.name} holds {len(infos)} files, more than --archive-max-files "
                       f"{limits.max_files}: check it is the right download, or raise the limit")
    claimed = sum(i.file_size for i in infos)
    if claimed > limits.max_bytes:
        raise LmsError(f"{archive.name} unpacks to {claimed / 2**30:.1f} GiB, more than "
                       f"--archive-max-size {limits.max_bytes / 2**30:g} GiB: raise the limit if "
                       "it is really the class's submissions")
    members, seen = [], set()
    for info in infos:
        if info.flag_bits & 0x1:
            raise LmsError(f"{archive.name}: {info.filename!r} is encrypted: download the "
                           "submissions again without a password")
        if info.file_size > _RATIO_FLOOR and \
                info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise LmsError(f"{archive.name}: {info.filename!r} would unpack "
                           f"{info.file_size // max(info.compress_size, 1)} times its size: a "
                           "zip bomb, not a submission; nothing was graded")
        relative = _safe_name(_name(info), archive)
        if relative in seen:
            continue  # zip allows a name twice; the first wins, as unzip does with -n
        seen.add(relative)
        members.append((info, relative))
    return members


def _name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it (UTF-8 names without the flag included)."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _safe_name(name: str, archive: Path) -> PurePosixPath:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    bad = (name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
           or ".." in parts or not parts or any("\x00" in p for p in parts))
    if bad:
        raise LmsError(f"{archive.name}: the member name {name!r} points outside the archive's "
                       "folder: not a platform's download; nothing was graded")
    return PurePosixPath(*parts)


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _copy(opened: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, written: int,
          archive: Path, limits: ArchiveLimits) -> int:
    """Copy one member, counting real bytes against the limits; the new total."""
    size = 0
    with opened.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            written += len(chunk)
            if size > info.file_size or written > limits.max_bytes:
                raise LmsError(f"{archive.name}: {info.filename!r} unpacks to more than its "
                               "header says (a zip bomb or a damaged archive); nothing was graded")
            sink.write(chunk)
    return written
