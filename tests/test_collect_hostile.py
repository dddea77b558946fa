"""collect treats every name and file of a download as hostile (issue 11, part 4).

Each case builds one hostile download (a zip or a folder) next to a scratch course, runs
``collect`` and asserts exactly which entries were placed where, which were refused and
why, that ``submitted/`` holds exactly the placed bytes, and that nothing else changed: the
course tree (files, links and their hashes, ``submitted/`` and the gradebook aside), the
download itself, and the folders beside the course.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.collect import CollectLimits, collect
from autograder.course import Course
from autograder.names import (
    ALLOWED,
    MAX_LENGTH,
    UnsafeStudentId,
    check_student_id,
    student_id_problem,
)

ROOT = Path(__file__).resolve().parents[1]
PS1 = "ps1_output_shapes"
NB = f"{PS1}.ipynb"
MIB = 2**20
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def nb(marker: str) -> bytes:
    """A small notebook whose bytes tell which entry it came from."""
    cell = new_code_cell(f"x = {marker!r}")
    cell["id"] = "answer"
    return nbformat.writes(new_notebook(cells=[cell])).encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(root: Path, *, skip: tuple[str, ...] = (), folders: bool = True) -> dict[str, str]:
    """Every entry under ``root`` (links not followed): its kind, mode and content hash."""
    out = {}
    for here, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(here) / name
            rel = str(path.relative_to(root))
            if rel.split(os.sep)[0] in skip:
                continue
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                out[rel] = f"link -> {os.readlink(path)}"
            elif stat.S_ISREG(info.st_mode):
                out[rel] = f"file {info.st_mode:o} {digest(path.read_bytes())}"
            elif stat.S_ISDIR(info.st_mode):
                if folders:
                    out[rel] = f"dir {info.st_mode:o}"
            else:
                out[rel] = f"special {info.st_mode:o}"
        dirnames[:] = [d for d in dirnames if str((Path(here) / d).relative_to(root)) not in skip]
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    """One scratch course for the module (its gradebook takes seconds to create)."""
    home = tmp_path_factory.mktemp("hostile")
    return Course(ROOT).copy_to(home / "course", assignments=[PS1, "ps2_pooling_as_convolution"])


def source_notebook(course: Course) -> Path:
    return course.folder("source") / PS1 / NB


# -- building downloads --------------------------------------------------------------------

Spec = str | zipfile.ZipInfo | tuple[str | zipfile.ZipInfo, bytes]


def write_zip(dest: Path, entries: list[Spec]) -> Path:
    """A zip of ``entries``: a name (content: ``nb(name)``), a ZipInfo, or (either, bytes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for spec in entries:
                name, data = spec if isinstance(spec, tuple) else (spec, None)
                key = name.filename if isinstance(name, zipfile.ZipInfo) else name
                archive.writestr(name, nb(key) if data is None else data)
    return dest


def zip_of(*entries: Spec) -> Callable[[Path, Course], Path]:
    return lambda tmp, course: write_zip(tmp / "download.zip", list(entries))


def entry(name: str, kind: int, data: bytes = b"") -> tuple[zipfile.ZipInfo, bytes]:
    """A zip entry whose Unix mode says ``kind`` (a link, a FIFO, a device...)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
    info.external_attr = (kind | 0o777) << 16
    return info, data


def patch_central(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of ``name``'s central directory record (as a hostile zip would)."""
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        (name_len,) = struct.unpack_from("<H", data, start + 28)
        if data[start + 46:start + 46 + name_len] == name.encode():
            patched = bytearray(data)
            struct.pack_into(fmt, patched, start + offset, value)
            return bytes(patched)
        start += 4
    raise AssertionError(f"{name} not in the zip")


def put(folder: Path, rel: str, data: bytes | None = None) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(nb(rel) if data is None else data)
    return path


def inbox_of(*rels: str) -> Callable[[Path, Course], Path]:
    def make(tmp: Path, course: Course) -> Path:
        for rel in rels:
            put(tmp / "inbox", rel)
        return tmp / "inbox"

    return make


ALICE = f"alice_1_{NB}"
PLACED_ALICE = {ALICE: f"alice/{PS1}/{NB}"}
UNSAFE = "is not a safe student id: "
LINK = "a symbolic link; collect never follows or copies links"
WRITE_LINK = "is a symbolic link; collect never writes through a link (remove it)"


def lying_size(tmp: Path, course: Course) -> Path:
    """An entry that declares 100 bytes and holds 1 MiB."""
    dest = write_zip(tmp / "download.zip", [ALICE, (f"liar_1_{NB}", b"{" + b" " * MIB + b"}")])
    dest.write_bytes(patch_central(dest.read_bytes(), f"liar_1_{NB}", 24, "<I", 100))
    return dest


def encrypted(tmp: Path, course: Course) -> Path:
    dest = write_zip(tmp / "download.zip", [ALICE, f"secret_1_{NB}"])
    dest.write_bytes(patch_central(dest.read_bytes(), f"secret_1_{NB}", 8, "<H", 1))
    return dest


def copy_of_solution_zip(tmp: Path, course: Course) -> Path:
    solution = source_notebook(course).read_bytes()
    return write_zip(tmp / "download.zip", [ALICE, (f"mallory_1_{NB}", solution)])


def symlink_entries(tmp: Path, course: Course) -> Path:
    target = str(source_notebook(course)).encode()
    return write_zip(tmp / "download.zip", [
        ALICE, entry(f"mallory_1_{NB}", stat.S_IFLNK, target),
        entry("trudy/", stat.S_IFLNK, str(source_notebook(course).parent).encode()),
        entry(f"trudy/{NB}", stat.S_IFLNK, target),
    ])


def folder_links_to_source(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    (inbox / "mallory").mkdir()
    (inbox / "mallory" / NB).symlink_to(source_notebook(course))
    (inbox / f"trudy_1_{NB}").symlink_to(source_notebook(course))
    (inbox / "oscar").symlink_to(source_notebook(course).parent, target_is_directory=True)
    return inbox


def symlinked_download(tmp: Path, course: Course) -> Path:
    put(tmp / "real", ALICE)
    (tmp / "inbox").symlink_to(tmp / "real", target_is_directory=True)
    return tmp / "inbox"


def hard_link_to_source(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    os.link(source_notebook(course), inbox / f"mallory_1_{NB}")
    return inbox


def copy_of_solution_folder(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    shutil.copy(source_notebook(course), inbox / f"mallory_1_{NB}")
    return inbox


def fifo_and_socket(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    os.mkfifo(inbox / f"eve_1_{NB}")
    here = os.getcwd()
    os.chdir(inbox)  # a socket's path must be short: bind a relative name
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(f"sock_1_{NB}")
    finally:
        os.chdir(here)
    return inbox


def device(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    try:
        os.mknod(inbox / f"dev_1_{NB}", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD); the FIFO case covers the rest")
    return inbox


def too_deep(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    put(inbox, f"x/y/z/{NB}")
    put(inbox, "/".join("d" * 10) + f"/deep_1_{NB}")
    return inbox


def huge_sparse(tmp: Path, course: Course) -> Path:
    inbox = tmp / "inbox"
    put(inbox, ALICE)
    with open(inbox / f"carol_1_{NB}", "wb") as file:
        file.truncate(21 * MIB)  # sparse: 21 MiB that cost no disk
    return inbox


def existing_links(tmp: Path, course: Course) -> Path:
    """Links already under submitted/ that point outside it: never written through."""
    outside = tmp / "outside"
    (outside / PS1).mkdir(parents=True)
    (outside / "target.ipynb").write_bytes(b"keep me")
    submitted = course.folder("submitted")
    (submitted / "mallory").symlink_to(outside, target_is_directory=True)
    (submitted / "bob").mkdir()
    (submitted / "bob" / PS1).symlink_to(outside / PS1, target_is_directory=True)
    (submitted / "carol" / PS1).mkdir(parents=True)
    (submitted / "carol" / PS1 / NB).symlink_to(outside / "target.ipynb")
    (submitted / "dan").write_bytes(b"a file where a folder belongs")
    return write_zip(tmp / "download.zip", [ALICE] + [f"{s}_1_{NB}" for s in
                                                       ("mallory", "bob", "carol", "dan")])


def existing_other_case(tmp: Path, course: Course) -> Path:
    put(course.folder("submitted"), f"Alice/{PS1}/{NB}", nb("Alice's earlier submission"))
    return write_zip(tmp / "download.zip", [ALICE, f"bob_1_{NB}"])


@dataclasses.dataclass(frozen=True)
class Case:
    make: Callable[[Path, Course], Path]  # writes the download below tmp, returns its path
    placed: dict[str, str]  # entry -> its file under submitted/ (content: nb(entry))
    refused: dict[str, str]  # entry ("{download}": the download itself) -> words of the reason
    limits: CollectLimits = CollectLimits()


CASES = {
    "zip-student-dotdot": Case(
        zip_of(ALICE, f".._1_{NB}"), PLACED_ALICE,
        {f".._1_{NB}": f"'..' {UNSAFE}it starts with '.'; {ALLOWED}"},
    ),
    "zip-student-dot": Case(
        zip_of(ALICE, f"._1_{NB}"), PLACED_ALICE, {f"._1_{NB}": f"'.' {UNSAFE}it starts with '.'"},
    ),
    "zip-student-hidden": Case(
        zip_of(ALICE, f".hidden_1_{NB}"), PLACED_ALICE,
        {f".hidden_1_{NB}": f"'.hidden' {UNSAFE}it starts with '.'"},
    ),
    "zip-student-too-long": Case(
        zip_of(ALICE, f"{'b' * 64}_1_{NB}", f"{'c' * 65}_1_{NB}"),
        {**PLACED_ALICE, f"{'b' * 64}_1_{NB}": f"{'b' * 64}/{PS1}/{NB}"},
        {f"{'c' * 65}_1_{NB}": "it is 65 characters long, more than 64"},
    ),
    "zip-student-unicode-and-controls": Case(
        zip_of(ALICE, f"\u00e5lice_1_{NB}", f"\uff41lice_1_{NB}", f"bob\u202e_1_{NB}",
               f"eve\n_1_{NB}"),
        PLACED_ALICE,
        {
            f"\u00e5lice_1_{NB}": "it contains '\u00e5'",
            f"\uff41lice_1_{NB}": "it contains '\uff41'",  # fullwidth a, a look-alike
            ascii(f"bob\u202e_1_{NB}"): "it contains '\\u202e'",  # right-to-left override
            ascii(f"eve\n_1_{NB}"): "it contains '\\n'",
        },
    ),
    "zip-entries-dotdot": Case(
        zip_of(ALICE, f"../evil_1_{NB}", f"sub/../../evil_1_{NB}", f"../../{NB}"), PLACED_ALICE,
        {
            f"../evil_1_{NB}": "'..' in its path",
            f"sub/../../evil_1_{NB}": "'..' in its path",
            f"../../{NB}": "'..' in its path",
        },
    ),
    "zip-entries-absolute": Case(
        zip_of(ALICE, f"/tmp/cnn-course-collect-evil/mallory_1_{NB}", f"//etc/evil_1_{NB}"),
        PLACED_ALICE,
        {
            f"/tmp/cnn-course-collect-evil/mallory_1_{NB}": "an absolute path",
            f"//etc/evil_1_{NB}": "an absolute path",
        },
    ),
    "zip-entries-windows": Case(
        zip_of(ALICE, f"C:evil_1_{NB}", f"..\\..\\evil_1_{NB}", f"C:\\Users\\evil_1_{NB}"),
        PLACED_ALICE,
        {
            f"C:evil_1_{NB}": "a Windows drive letter",
            f"..\\..\\evil_1_{NB}": "a backslash in its name",
            f"C:\\Users\\evil_1_{NB}": "a backslash in its name",
        },
    ),
    "zip-entries-symlinks": Case(
        symlink_entries, PLACED_ALICE,
        {f"mallory_1_{NB}": LINK, "trudy/": LINK, f"trudy/{NB}": LINK},
    ),
    "zip-entries-fifo-and-device": Case(
        zip_of(ALICE, entry(f"fifo_1_{NB}", stat.S_IFIFO), entry(f"dev_1_{NB}", stat.S_IFCHR),
               entry(f"blk_1_{NB}", stat.S_IFBLK), entry(f"sock_1_{NB}", stat.S_IFSOCK)),
        PLACED_ALICE,
        {
            f"fifo_1_{NB}": "not a regular file but a FIFO",
            f"dev_1_{NB}": "not a regular file but a character device",
            f"blk_1_{NB}": "not a regular file but a block device",
            f"sock_1_{NB}": "not a regular file but a socket",
        },
    ),
    "zip-student-ids-differing-in-case": Case(
        zip_of(ALICE, f"Alice_1_{NB}", f"ALICE_2_{NB}"), PLACED_ALICE,
        {
            f"Alice_1_{NB}": "student id 'Alice' differs only in case from 'alice'",
            f"ALICE_2_{NB}": "student id 'ALICE' differs only in case from 'alice'",
        },
    ),
    "zip-duplicate-entry": Case(
        zip_of(ALICE, (ALICE, nb("a second file with the same name"))), PLACED_ALICE,
        {ALICE: f"a second file for alice/{PS1}; kept the first"},
    ),
    "zip-huge-notebook": Case(
        zip_of(ALICE, (f"carol_1_{NB}", b" " * (21 * MIB))), PLACED_ALICE,
        {f"carol_1_{NB}": f"{21 * MIB} bytes, more than the limit of {20 * MIB} bytes"},
    ),
    "zip-bomb": Case(
        zip_of(ALICE, *[(f"s{i}_1_{NB}", b" " * (19 * MIB)) for i in range(6)]), {},
        {"download.zip": f"would unpack to {6 * 19 * MIB + len(nb(ALICE))} bytes; the limits "
         f"are 20000 entries and {64 * MIB} bytes"},
        CollectLimits(zip_bytes=64 * MIB),
    ),
    "zip-too-many-entries": Case(
        zip_of(*[f"s{i}_1_{NB}" for i in range(11)]), {},
        {"download.zip": "a zip of 11 entries"}, CollectLimits(zip_entries=10),
    ),
    "zip-size-that-lies": Case(
        lying_size, PLACED_ALICE, {f"liar_1_{NB}": "cannot be read from the zip (Bad CRC-32"},
    ),
    "zip-encrypted-entry": Case(
        encrypted, PLACED_ALICE, {f"secret_1_{NB}": "encrypted"},
    ),
    "zip-not-notebooks": Case(
        zip_of(ALICE, "dave_readme.txt", f"alice_1_{PS1}.py", "nested.zip", "README",
               f"alice_1_{NB}.exe", "erin_1_homework.ipynb", "alice/",
               f"__MACOSX/._alice_1_{NB}", f".ipynb_checkpoints/alice_1_{NB}"),
        PLACED_ALICE,
        {
            "dave_readme.txt": "not a notebook",
            f"alice_1_{PS1}.py": "not a notebook",
            "nested.zip": "not a notebook",
            "README": "not a notebook",
            f"alice_1_{NB}.exe": "not a notebook",
            "erin_1_homework.ipynb": "no assignment has a notebook named like 'homework'",
        },
    ),
    "zip-copy-of-the-solution": Case(
        copy_of_solution_zip, PLACED_ALICE,
        {f"mallory_1_{NB}": f"identical to the instructor's notebook source/{PS1}/{NB}"},
    ),
    "folder-links-to-the-source-notebook": Case(
        folder_links_to_source, PLACED_ALICE,
        {f"mallory/{NB}": LINK, f"trudy_1_{NB}": LINK, "oscar": LINK},
    ),
    "folder-download-is-a-symlink": Case(
        symlinked_download, {},
        {"{download}": "a symbolic link; collect never follows or copies links (pass what it "
         "points to)"},
    ),
    "folder-hard-link-to-the-source-notebook": Case(
        hard_link_to_source, PLACED_ALICE,
        {f"mallory_1_{NB}": "a file with 2 hard links"},
    ),
    "folder-copy-of-the-solution": Case(
        copy_of_solution_folder, PLACED_ALICE,
        {f"mallory_1_{NB}": f"identical to the instructor's notebook source/{PS1}/{NB}"},
    ),
    "folder-fifo-and-socket": Case(
        fifo_and_socket, PLACED_ALICE,
        {f"eve_1_{NB}": "not a regular file but a FIFO",
         f"sock_1_{NB}": "not a regular file but a socket"},
    ),
    "folder-device": Case(
        device, PLACED_ALICE, {f"dev_1_{NB}": "not a regular file but a character device"},
    ),
    "folder-student-ids-differing-in-case": Case(
        inbox_of(f"ALICE/{NB}", f"alice/{PS1}/{NB}"), {f"ALICE/{NB}": f"ALICE/{PS1}/{NB}"},
        {f"alice/{PS1}/{NB}": "student id 'alice' differs only in case from 'ALICE'"},
    ),
    "folder-unsafe-student-folders": Case(
        inbox_of(ALICE, f".hidden/{NB}", f"-rf/{NB}", f"a\\b/{NB}", f"{'x' * 65}/{NB}",
                 f"a b/{PS1}/{NB}"),
        PLACED_ALICE,
        {
            f".hidden/{NB}": f"'.hidden' {UNSAFE}it starts with '.'",
            f"-rf/{NB}": f"'-rf' {UNSAFE}it starts with '-'",
            f"a\\b/{NB}": f"'a\\\\b' {UNSAFE}it contains '\\\\'",
            f"{'x' * 65}/{NB}": "it is 65 characters long, more than 64",
            f"a b/{PS1}/{NB}": f"'a b' {UNSAFE}it contains ' '",
        },
    ),
    "folder-too-deep": Case(
        too_deep, PLACED_ALICE,
        {
            f"x/y/z/{NB}": "too deep: expected <student>/<notebook>.ipynb",
            "d/d/d/d/d/d/d/d/d": "folders nested more than 8 deep",
        },
    ),
    "folder-huge-sparse-notebook": Case(
        huge_sparse, PLACED_ALICE,
        {f"carol_1_{NB}": f"{21 * MIB} bytes, more than the limit of {20 * MIB} bytes"},
    ),
    "submitted-holds-links-and-files": Case(
        existing_links, PLACED_ALICE,
        {
            f"mallory_1_{NB}": f"submitted/mallory {WRITE_LINK}",
            f"bob_1_{NB}": f"submitted/bob/{PS1} {WRITE_LINK}",
            f"carol_1_{NB}": f"submitted/carol/{PS1}/{NB} {WRITE_LINK}",
            f"dan_1_{NB}": "submitted/dan exists and is not a folder",
        },
    ),
    "submitted-holds-the-id-in-another-case": Case(
        existing_other_case, {f"bob_1_{NB}": f"bob/{PS1}/{NB}"},
        {ALICE: "student id 'alice' differs only in case from 'Alice'"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_download(case: Case, course: Course, tmp_path: Path) -> None:
    submitted = course.folder("submitted")
    if submitted.exists():
        shutil.rmtree(submitted)
    submitted.mkdir()
    download = case.make(tmp_path, course)
    skip = ("submitted", "gradebook.db", "gradebook.db-journal")
    course_before, tmp_before = tree(course.root, skip=skip), tree(tmp_path)
    beside_before = sorted(os.listdir(course.root.parent))
    submitted_before = tree(submitted, folders=False)

    result = collect(course, download, limits=case.limits)

    placed = {rel: str(dest.relative_to(submitted)) for rel, _student, dest in result.placed}
    assert placed == case.placed
    assert len(result.placed) == len(case.placed)
    refused = {
        rel.replace(str(download), "{download}"): reason for rel, reason in result.unplaced
    }
    assert sorted(refused) == sorted(case.refused)
    assert len(result.unplaced) == len(case.refused)
    for rel, words in case.refused.items():
        assert words in refused[rel], f"{rel}: {refused[rel]}"
    students = {dest.split("/")[0] for dest in case.placed.values()}
    assert result.students == students
    # submitted/ holds what it held plus exactly the placed files, each with its entry's bytes
    expected = dict(submitted_before)
    umask = os.umask(0o022)
    os.umask(umask)
    for rel, dest in case.placed.items():
        expected[dest] = f"file {0o100666 & ~umask:o} {digest(nb(rel))}"
    assert tree(submitted, folders=False) == expected
    # nothing else changed: the course, the download, the folders beside the course
    assert tree(course.root, skip=skip) == course_before
    assert tree(tmp_path) == tmp_before
    assert sorted(os.listdir(course.root.parent)) == beside_before
    assert not os.path.lexists("/tmp/cnn-course-collect-evil")
    with course.gradebook() as gb:
        registered = {s.id for s in gb.students}
    assert students <= registered
    assert all(student_id_problem(s) is None for s in registered), registered


def test_the_matrix_is_big_enough() -> None:
    assert sum(name.startswith("zip") for name in CASES) >= 8
    assert sum(name.startswith("folder") for name in CASES) >= 8


# -- the rule itself -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["alice", "a", "Bob.Smith", "jo_anne", "x-1", "s+tag@uni.edu",
                                  "0042", "b" * MAX_LENGTH])
def test_safe_student_ids_pass(name: str) -> None:
    assert check_student_id(name) == name
    assert student_id_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "it is empty"),
        (".", "it starts with '.'"),
        ("..", "it starts with '.'"),
        (".hidden", "it starts with '.'"),
        ("-rf", "it starts with '-'"),
        ("_x", "it starts with '_'"),
        ("@x", "it starts with '@'"),
        ("../x", "it contains '/'"),
        ("a/b", "it contains '/'"),
        ("a\\b", "it contains '\\\\'"),
        ("a b", "it contains ' '"),
        ("a\x00b", "it contains '\\x00'"),
        ("\u00e5lice", "it contains '\u00e5'"),
        ("al\u0131ce", "it contains '\u0131'"),  # dotless i: upper-cases to "ALICE"
        ("c" * (MAX_LENGTH + 1), f"it is {MAX_LENGTH + 1} characters long, more than 64"),
    ],
)
def test_unsafe_student_ids_say_what_is_wrong_and_what_is_allowed(name: str, problem: str):
    assert student_id_problem(name) == problem
    with pytest.raises(UnsafeStudentId) as err:
        check_student_id(name)
    assert str(err.value).endswith(f"is not a safe student id: {problem}; {ALLOWED}")
    assert isinstance(err.value, ValueError)


def test_unsafe_folders_in_submitted_are_reported_never_graded(course: Course, capsys) -> None:
    submitted = course.folder("submitted")
    if submitted.exists():
        shutil.rmtree(submitted)
    for student in ("alice", ".hidden", "a b", "bob"):
        (submitted / student / PS1).mkdir(parents=True)
    (submitted / "mallory").symlink_to(submitted / "bob", target_is_directory=True)
    (submitted / "carol").mkdir()
    (submitted / "carol" / PS1).symlink_to(submitted / "bob" / PS1, target_is_directory=True)
    (submitted / "dan" / "ps2_pooling_as_convolution").mkdir(parents=True)  # another assignment
    assert course.submitted_students(PS1) == ["alice", "bob"]
    err = capsys.readouterr().err.splitlines()
    assert sorted(err) == sorted([
        f"warning: not grading submitted/.hidden: it starts with '.'; {ALLOWED}",
        f"warning: not grading submitted/a b: it contains ' '; {ALLOWED}",
        "warning: not grading submitted/carol: it is a symbolic link, which collect never "
        "makes",
        "warning: not grading submitted/mallory: it is a symbolic link, which collect never "
        "makes",
    ])


@pytest.mark.parametrize("command", ["grade", "feedback"])
def test_commands_refuse_an_unsafe_student_with_exit_2(course: Course, command: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "--root", str(course.root), command, PS1,
         "--student", "alice", "--student", "../x"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert run.returncode == 2, run.stderr
    assert (
        f"argument --student: '../x' is not a safe student id: it contains '/'; {ALLOWED}"
        in run.stderr
    )
    assert not (course.root / "autograded").exists()
    assert not (course.root / "feedback").exists()


def test_python_callers_of_grade_and_feedback_are_held_to_the_same_rule(course: Course) -> None:
    from autograder.course import CourseError
    from autograder.grading import build, feedback, grade

    build(course, PS1)
    with pytest.raises(CourseError, match=r"'\.\./x' is not a safe student id"):
        grade(course, PS1, students=["alice", "../x"], progress=False, unsafe=True)
    with pytest.raises(CourseError, match=r"'\.hidden' is not a safe student id"):
        feedback(course, PS1, students=[".hidden"])
    assert not (course.root / "autograded").exists()
    # without --student, feedback never picks a folder with an unsafe name or a link
    hostile = course.folder("autograded") / ".hidden" / PS1
    hostile.mkdir(parents=True)
    assert feedback(course, PS1) == ([], [])
