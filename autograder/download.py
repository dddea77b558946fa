"""Reading a download (a folder or an LMS zip) as hostile input: a stream of entries.

:func:`entries` yields one :class:`Entry` per file of the download: where it sits, and a
function that reads it, bounded, into memory, or the reason it is refused. Guaranteed:

- links are never followed or copied: a download that is a symbolic link, a link anywhere
  in a folder, a zip entry that is a link, a device, a FIFO or a socket is refused. Folder
  files are opened relative to their already opened folder with ``O_NOFOLLOW`` (a file or
  folder swapped for a link while we walk is refused too), and only regular files with a
  single hard link are read (a second link may be the instructor's solution under a
  student's name);
- zip entries with an absolute path, a ``..`` component, a drive letter or a backslash are
  refused; members are read into memory, bounded, never extracted to disk;
- sizes are bounded (:class:`CollectLimits`): a larger notebook is refused, and a zip whose
  entries would unpack to more than the limit (a zip bomb) is refused as a whole before
  anything in it is decompressed.

Folder noise (``.ipynb_checkpoints/``, ``__MACOSX/``) and the entries of zip folders, which
carry no content, are skipped; everything else is yielded, refused or not. What a file's
name means (student, assignment) is :mod:`autograder.collect`'s business.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

__all__ = ["CollectLimits", "Entry", "Refused", "entries"]

MIB = 2**20
# Never the links themselves: a folder opened with O_NOFOLLOW fails (ELOOP) if it is one.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the check must not block the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NO_LINKS = "collect never follows or copies links"


@dataclasses.dataclass(frozen=True)
class CollectLimits:
    """Bounds on what ``collect`` reads from one download."""

    notebook_bytes: int = 20 * MIB  # one notebook (a zip member's uncompressed size)
    zip_bytes: int = 1024 * MIB  # all of a zip's entries, uncompressed, as declared
    zip_entries: int = 20_000  # entries in a zip
    folder_depth: int = 8  # folders nested in a folder download


class Refused(Exception):
    """One entry of a download is not placed; the message says why."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One file of a download: where it sits, and how to read it (bounded) or why not."""

    rel: str  # as shown in reports, unprintable characters escaped
    parts: tuple[str, ...] = ()
    read: Callable[[], bytes] | None = None  # raises Refused
    refused: str | None = None
    # a zip entry's recorded time (year, month, day, hour, minute, second): local time of
    # whoever wrote the zip, no zone; None for a folder's files
    zip_time: tuple[int, int, int, int, int, int] | None = None


def _printable(name: str) -> str:
    """A hostile name as it may be printed: itself, or escaped if it has control codes."""
    return name if name.isprintable() else ascii(name)


def _too_big(size: int, limits: CollectLimits) -> str:
    return (
        f"{size} bytes, more than the limit of {limits.notebook_bytes} bytes for one "
        "notebook (CollectLimits.notebook_bytes)"
    )


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return f"file type {stat.S_IFMT(mode):#o}"


def _skipped(parts: tuple[str, ...]) -> bool:
    """Folder noise that holds no submission (Jupyter's autosaves, macOS's resource forks)."""
    return ".ipynb_checkpoints" in parts or parts[:1] == ("__MACOSX",)


def entries(path: Path, limits: CollectLimits) -> Iterator[Entry]:
    """Every file of the download at ``path``, sorted for a folder, in order for a zip.

    An entry's ``read`` must be called before the next entry is asked for (a folder's file
    is read through its folder's descriptor, which is closed once the folder is done).

    Raises:
        FileNotFoundError: ``path`` is neither a folder nor a zip file.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = 0
    if stat.S_ISLNK(mode):
        yield Entry(_printable(str(path)),
                    refused=f"a symbolic link; {_NO_LINKS} (pass what it points to)")
    elif stat.S_ISDIR(mode):
        fd = os.open(path, _DIR_FLAGS)
        try:
            yield from _walk(fd, (), limits)
        finally:
            os.close(fd)
    elif stat.S_ISREG(mode) and zipfile.is_zipfile(path):
        yield from _zip_entries(path, limits)
    else:
        raise FileNotFoundError(f"{path} is neither a folder nor a zip file")


def _walk(dir_fd: int, prefix: tuple[str, ...], limits: CollectLimits) -> Iterator[Entry]:
    """The files under an open folder, every name looked up relative to it, no link followed."""
    for name in sorted(os.listdir(dir_fd)):
        parts = (*prefix, name)
        rel = _printable("/".join(parts))
        if _skipped(parts):
            continue
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except OSError as err:
            yield Entry(rel, refused=f"cannot be read ({err.strerror})")
            continue
        if stat.S_ISLNK(mode):
            yield Entry(rel, refused=f"a symbolic link; {_NO_LINKS}")
        elif stat.S_ISDIR(mode):
            if len(parts) > limits.folder_depth:
                yield Entry(rel, refused=f"folders nested more than {limits.folder_depth} deep")
                continue
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError as err:  # ELOOP: swapped for a link since the check
                yield Entry(rel, refused=f"cannot be opened without following links "
                             f"({err.strerror})")
                continue
            try:
                yield from _walk(sub, parts, limits)
            finally:
                os.close(sub)
        elif stat.S_ISREG(mode):
            yield Entry(rel, parts, read=functools.partial(_read_file, dir_fd, name, limits))
        else:
            yield Entry(rel, refused=f"not a regular file but {_kind(mode)}")


def _read_file(dir_fd: int, name: str, limits: CollectLimits) -> bytes:
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as err:  # ELOOP: swapped for a link since the check
        raise Refused(f"cannot be opened without following links ({err.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"not a regular file but {_kind(info.st_mode)}")
        if info.st_nlink > 1:
            raise Refused(
                f"a file with {info.st_nlink} hard links, so possibly another file (such as "
                "the instructor's solution) under a second name; only files with a single "
                "link are read (copy the file to break the link)"
            )
        if info.st_size > limits.notebook_bytes:
            raise Refused(_too_big(info.st_size, limits))
        data = file.read(limits.notebook_bytes + 1)
    if len(data) > limits.notebook_bytes:
        raise Refused(_too_big(len(data), limits))
    return data


def _zip_entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is refused by its kind or name alone, or ``None``."""
    mode = info.external_attr >> 16
    name = info.filename
    if stat.S_ISLNK(mode):
        return f"a symbolic link; {_NO_LINKS}"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"not a regular file but {_kind(mode)}"
    if "\\" in name:
        return "a backslash in its name (a Windows path?); zip entries separate folders with /"
    if re.match(r"[A-Za-z]:", name):
        return "a Windows drive letter in its name; entries must be relative paths"
    if name.startswith("/"):
        return "an absolute path; entries must be relative paths"
    if ".." in PurePosixPath(name).parts:
        return "'..' in its path; entries must stay inside the download"
    if info.flag_bits & 0x1:
        return "encrypted; collect reads only unencrypted zips"
    return None


def _zip_entries(path: Path, limits: CollectLimits) -> Iterator[Entry]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as file, zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if len(infos) > limits.zip_entries or total > limits.zip_bytes:
            yield Entry(
                path.name,
                refused=f"a zip of {len(infos)} entries that would unpack to {total} bytes; "
                f"the limits are {limits.zip_entries} entries and {limits.zip_bytes} bytes "
                "(CollectLimits.zip_entries, .zip_bytes); nothing in it was read",
            )
            return
        for info in infos:
            rel = _printable(info.filename)
            problem = _zip_entry_problem(info)
            parts = PurePosixPath(info.filename).parts
            if problem is not None:
                yield Entry(rel, refused=problem)
            elif not info.is_dir() and parts and not _skipped(parts):
                yield Entry(rel, parts, read=functools.partial(_read_member, archive, info,
                                                                 limits),
                            zip_time=tuple(info.date_time))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: CollectLimits) -> bytes:
    if info.file_size > limits.notebook_bytes:
        raise Refused(_too_big(info.file_size, limits))
    try:
        with archive.open(info) as member:  # stops at the declared size, then checks the CRC
            data = member.read(limits.notebook_bytes + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as err:
        raise Refused(f"cannot be read from the zip ({err})") from None
    if len(data) > limits.notebook_bytes:
        raise Refused(_too_big(len(data), limits))
    return data
