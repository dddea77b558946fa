"""``python -m autograder publish DEST``: the student edition (autograder/publish.py).

Published once per module from this repository. Checks: nothing of ``source/``'s solution
or hidden-test regions, the grader's example students or its corpus reaches the edition
(a scanner written here, independent of publish's own, and both shown to catch a planted
line); what must never be there is not; every lecture points at the student version of an
assignment; DEST is refused inside the course or when not empty, and ``--force`` loses
nothing a user had; and the edition's own ``make test`` passes in a fresh ``git clone``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.publish import MANIFEST, LeakError, PublishError, _check_secrets, publish

ROOT = Path(__file__).resolve().parents[1]
# nbgrader's delimiters: a line that contains one opens or closes a region.
BEGIN = re.compile(r"BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)")
END = re.compile(r"END (SOLUTION|HIDDEN TESTS|MARK SCHEME)")
ASSIGNMENT = re.compile(r"\bps\d_\w+")


def _cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "--root", str(ROOT), *args],
                          capture_output=True, text=True, timeout=timeout)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _file_text(path: Path) -> str:
    """A file as text; for a notebook also every string inside its JSON (sources unescaped)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        def strings(node):
            if isinstance(node, str):
                yield node
            elif isinstance(node, dict | list):
                for item in node.values() if isinstance(node, dict) else node:
                    yield from strings(item)
        text += "\n" + "\n".join(strings(json.loads(text)))
    return text


def _non_trivial(line: str) -> bool:
    s = line.strip()
    return len(s) >= 12 and not s.startswith("#") and s != "pass" and re.search(r"\w", s)


def _secrets_and_visible() -> tuple[dict[str, str], str]:
    """Secret lines (-> where from) and the text the course shows students on purpose.

    Secret: non-trivial lines between BEGIN/END SOLUTION, HIDDEN TESTS or MARK SCHEME in
    source/, every line of a solution cell without markers (a written answer's model
    answer), and every non-trivial line of the example students and the corpus. Shown on purpose: the
    lectures, cnnkit, and the parts of every source notebook outside those regions.
    """
    secrets: dict[str, str] = {}
    shown = [_file_text(p) for p in [*ROOT.glob("course/*.ipynb"), *ROOT.glob("cnnkit/**/*.py")]]
    for nb in sorted(ROOT.glob("source/*/*.ipynb")):
        for cell in _cells(nb):
            text = _source(cell)
            whole = (cell["metadata"].get("nbgrader", {}).get("solution")
                     and "BEGIN SOLUTION" not in text)
            inside = "written answer" if whole else None
            for line in text.splitlines():
                if BEGIN.search(line) and not whole:
                    inside = BEGIN.search(line).group(1)
                elif END.search(line) and not whole:
                    inside = None
                elif inside:
                    if _non_trivial(line):
                        secrets.setdefault(line.strip(), f"{nb.relative_to(ROOT)} ({inside})")
                else:
                    shown.append(line)
    for py in sorted([*ROOT.glob("autograder/examples/**/*.py"),
                      *ROOT.glob("autograder/corpus/**/*.py")]):
        for line in py.read_text().splitlines():
            if _non_trivial(line):
                secrets.setdefault(line.strip(), str(py.relative_to(ROOT)))
    return secrets, "\n".join(shown)


def leaks(edition: Path) -> list[str]:
    """Every secret line, not shown by the course on purpose, found in a file of ``edition``."""
    secrets, shown = _secrets_and_visible()
    checked = {line: where for line, where in secrets.items() if line not in shown}
    assert len(checked) > 100, "the scanner would check almost nothing; is source/ empty?"
    found = []
    for path in sorted(p for p in edition.rglob("*") if p.is_file() and ".git" not in p.parts):
        text = _file_text(path)
        found += [f"{path.relative_to(edition)}: {line!r} from {where}"
                  for line, where in checked.items() if line in text]
    return found


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> tuple[Path, str]:
    release_before = (ROOT / "release").exists()
    gradebook = ROOT / "gradebook.db"
    gradebook_before = gradebook.stat().st_mtime_ns if gradebook.exists() else None
    dest = tmp_path_factory.mktemp("published") / "cnn-course-student"
    start = time.perf_counter()
    result = _cli("publish", str(dest))
    print(f"publish took {time.perf_counter() - start:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    # The instructor's release/ and gradebook are not touched (built in a scratch course).
    assert (ROOT / "release").exists() == release_before
    assert (gradebook.stat().st_mtime_ns if gradebook.exists() else None) == gradebook_before
    return dest, result.stdout


def test_edition_has_what_students_need(edition):
    dest, stdout = edition
    assignments = sorted(p.parent.name for p in ROOT.glob("source/*/*.ipynb"))
    for name in assignments:
        released = dest / "assignments" / name / f"{name}.ipynb"
        assert released.is_file(), f"{released} missing"
        assert "raise NotImplementedError()" in released.read_text()
    lectures = sorted(p.name for p in ROOT.glob("course/*.ipynb"))
    assert sorted(p.name for p in (dest / "course").glob("*.ipynb")) == lectures
    for name in ("README.md", "Makefile", "pyproject.toml", "environment.yml", ".gitignore",
                 "cnnkit/__init__.py", "tests/test_edition.py", MANIFEST):
        assert (dest / name).is_file(), f"{name} missing from the edition"
    readme = (dest / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert all(f"assignments/{name}/" in readme for name in assignments)
    assert all(f"course/{name}" in readme for name in lectures)
    pyproject = (dest / "pyproject.toml").read_text()
    assert 'include = ["cnnkit*"]' in pyproject and "autograder" not in pyproject
    # Lectures are copied as they are, outputs cleared.
    for name in lectures:
        ours, theirs = _cells(ROOT / "course" / name), _cells(dest / "course" / name)
        assert [_source(c) for c in ours] == [_source(c) for c in theirs]
        assert not any(c.get("outputs") for c in theirs)
    assert f"{len(lectures)} lectures, {len(assignments)} assignments" in stdout


def test_nothing_secret_or_instructor_only_is_in_the_edition(edition):
    dest, _ = edition
    assert leaks(dest) == []
    parts = {part for p in dest.rglob("*") for part in p.relative_to(dest).parts}
    for name in ("source", "autograder", "release", "submitted", "autograded", "feedback",
                 "examples", "corpus", "bench", "nbgrader_config.py", "gradebook.db",
                 ".autograder", "grades.csv"):
        assert name not in parts, f"{name} must not be in the student edition"
    assert not list(dest.rglob("*.db"))
    for path in [*dest.rglob("*.py"), *dest.rglob("*.ipynb")]:
        assert not re.search(r"^\s*(from|import)\s+autograder\b", _file_text(path), re.M), path


def test_leak_scanners_catch_a_planted_line(edition, tmp_path):
    """Both this test's scanner and publish's own refusal find one solution line."""
    dest, _ = edition
    secrets, shown = _secrets_and_visible()
    planted = next(line for line, where in sorted(secrets.items())
                   if "(SOLUTION)" in where and line not in shown)
    copy = tmp_path / "edition"
    shutil.copytree(dest, copy)
    notebook = copy / "assignments" / "ps1_output_shapes" / "ps1_output_shapes.ipynb"
    data = json.loads(notebook.read_text())
    data["cells"][-1]["source"] = ["x = 1\n", f"    {planted}  # planted\n"]
    notebook.write_text(json.dumps(data))
    assert any(repr(planted) in leak for leak in leaks(copy))
    with pytest.raises(LeakError, match=re.escape(planted)):
        _check_secrets(Course(ROOT), copy)


def test_lectures_point_at_the_student_versions(edition):
    dest, _ = edition
    known = {p.parent.name for p in ROOT.glob("source/*/*.ipynb")}
    pointers = 0
    for lecture in sorted(ROOT.glob("course/*.ipynb")):
        for cell in _cells(lecture):
            text = _source(cell)
            assert "source/" not in text, f"{lecture.name} sends students to source/"
            if cell["cell_type"] != "markdown":
                continue
            for match in ASSIGNMENT.finditer(text):
                name, before = match.group(), text[:match.start()]
                where = f"{lecture.name}: {text[max(0, match.start() - 40):match.end()]!r}"
                assert name in known, f"{where} names no assignment of source/"
                assert before.endswith("assignments/"), f"{where}: write assignments/{name}/"
                assert (dest / "assignments" / name / f"{name}.ipynb").is_file(), where
                pointers += 1
    assert pointers >= len(known) - 1, "the lectures should name their assignments"


def test_publish_refuses_dest_inside_the_course_or_not_empty(tmp_path):
    inside = _cli("publish", str(ROOT / "student-edition"))
    assert inside.returncode == 2 and "inside the course root" in inside.stderr
    assert not (ROOT / "student-edition").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(PublishError, match="not empty.*--force"):
        publish(Course(ROOT), busy)
    with pytest.raises(PublishError, match="not an edition written by publish"):
        publish(Course(ROOT), busy, force=True)
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]


def test_force_replaces_only_an_unchanged_earlier_edition(edition, tmp_path):
    dest, _ = edition
    repo = tmp_path / "students-repo"  # a fresh clone of the students' repository
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    course = Course(ROOT)
    publish(course, repo)  # only .git/ there: no --force needed
    assert (repo / "README.md").read_text() == (dest / "README.md").read_text()
    (repo / "my_notes.md").write_text("mine\n")
    stale = repo / "assignments" / "ps0_gone" / "ps0_gone.ipynb"  # an assignment withdrawn
    stale.parent.mkdir()
    stale.write_text("{}")
    manifest = json.loads((repo / MANIFEST).read_text())
    manifest["files"][str(stale.relative_to(repo))] = hashlib.sha256(b"{}").hexdigest()
    (repo / MANIFEST).write_text(json.dumps(manifest))
    changed = repo / "README.md"
    changed.write_text(changed.read_text() + "\nan edit\n")
    with pytest.raises(PublishError, match="changed since it was published.*README.md"):
        publish(course, repo, force=True)
    assert changed.read_text().endswith("an edit\n") and stale.exists()
    shutil.copy(dest / "README.md", changed)
    # A file the new edition would write, but that the earlier one did not: refused too.
    makefile_hash = manifest["files"].pop("Makefile")
    (repo / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match="Makefile exists and is not a file of the earlier"):
        publish(course, repo, force=True)
    assert stale.exists() and (repo / "Makefile").exists()
    manifest["files"]["Makefile"] = makefile_hash
    (repo / MANIFEST).write_text(json.dumps(manifest))
    result = publish(course, repo, force=True)
    assert (repo / "my_notes.md").read_text() == "mine\n" and (repo / ".git" / "HEAD").exists()
    assert not stale.parent.exists(), "a file of the earlier edition that is gone stays"
    assert "README.md" in result.files and (repo / "README.md").read_text() == (
        dest / "README.md").read_text()


@pytest.mark.slow
def test_edition_test_command_passes_in_a_fresh_clone(edition, tmp_path):
    """`make test` of the edition, in a `git clone` of it, in an environment of its own.

    The environment is a new venv whose site-packages get a .pth line to this
    interpreter's site-packages (the pinned packages: no PyTorch download), and no pip of
    its own; the edition's Makefile then installs the clone itself (`pip install -e .`,
    offline, without build isolation) and runs the lectures. Only cnnkit of the clone is
    importable there; autograder is not.
    """
    dest, _ = edition
    git = ["git", "-c", "user.name=publish-test", "-c", "user.email=publish@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "student edition"], cwd=dest, check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(dest), str(clone)], check=True)
    venv = tmp_path / "venv"
    base = Path(sys.base_prefix) / "bin" / "python{}.{}".format(*sys.version_info[:2])
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "pinned-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Offline: the packages are there already; one thread, as the README advises on a
    # busy 2-core machine (CI shares it), so the training cells keep within nbmake's limit.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "OMP_NUM_THREADS": "1"}
    env.pop("CNNKIT_QUICK", None)  # the Makefile must set the quick profile itself
    start = time.perf_counter()
    run = subprocess.run(["make", "test", f"VENV={venv}"], cwd=clone, env=env,
                         capture_output=True, text=True, timeout=1800)
    took = time.perf_counter() - start
    print(f"edition's make test took {took:.0f} s")
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    # every lecture, the two set-up checks and one validity check per assignment
    expected = len(list(clone.glob("course/*.ipynb"))) + 2 + len(list(clone.glob("assignments/*")))
    assert re.search(rf"\b{expected} passed", run.stdout), run.stdout[-2000:]
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.util as u, cnnkit; print(cnnkit.__file__); "
         "print(u.find_spec('autograder'))"],
        cwd=tmp_path, capture_output=True, text=True, check=True)
    where, autograder = probe.stdout.split()
    assert Path(where).is_relative_to(clone) and autograder == "None"
