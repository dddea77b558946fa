"""``publish``: the student edition of the course, a folder to hand out as it is.

What is in it: the lectures (``course/``, outputs cleared), the released (student) versions
of every assignment (``assignments/<name>/``, built by nbgrader's ``generate_assignment``),
``cnnkit``, ``environment.yml``, and the student's own ``README.md``, ``Makefile``
(``make lab``, ``make test``), ``pyproject.toml`` (the instructor's pinned dependencies;
it packages ``cnnkit`` only), ``.gitignore`` and ``tests/`` (from ``autograder/edition/``).

What never is: ``source/``, solutions, hidden tests, the grader (``autograder/`` with its
example students and corpus), reference observations, ``release/``, ``submitted/``,
gradebooks, ``nbgrader_config.py``, ``tests/`` of the instructor, ``bench/``. The edition is
assembled from that list in a scratch folder, never by copying the course and deleting, so
a folder added to the course later stays out until it is added here.

Guarantees, checked on the scratch folder before anything reaches DEST:

- no line worth checking (12 characters or more, not a comment) of a solution or hidden
  test region of ``source/`` appears in any file, notebooks read cell by cell, unless the
  course already shows it to students outside the assignments (the instructor's lectures
  and ``cnnkit``, or the released notebook itself): those lines are returned as notes;
- nothing in it imports a module of the course root that the edition lacks
  (``autograder``, ``bench``, ``tests``...);
- the released notebooks are built in a scratch copy of the course, so the instructor's
  ``release/`` and gradebook are not touched.

DEST must be outside the course root and new, empty, or hold only ``.git/``. ``force=True`` replaces an earlier
edition in DEST: the files it wrote (listed with their SHA-256 in ``.cnn-course-edition.json``)
are removed if unchanged; a changed one, or a new file that would overwrite a file the
earlier edition did not write, stops it before anything is written. Other files (``.git/``,
``.venv/``, your own) are left alone, so DEST can be a clone of the students' repository.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_solution

from autograder.course import Course, CourseError
from autograder.grading import build

__all__ = ["Edition", "LeakError", "PublishError", "publish", "secret_lines"]

MANIFEST = ".cnn-course-edition.json"
TEMPLATES = Path(__file__).with_name("edition")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".*")
# nbgrader's delimiters (ClearSolutions, ClearHiddenTests, ClearMarkScheme): a line that
# contains one opens or closes a region, as nbgrader reads them.
_MARKERS = {"BEGIN SOLUTION": "solution", "BEGIN HIDDEN TESTS": "hidden tests",
            "BEGIN MARK SCHEME": "mark scheme"}
_ENDS = ("END SOLUTION", "END HIDDEN TESTS", "END MARK SCHEME")
MIN_LINE = 12  # shorter lines (`return y`, `pass`, brackets) say nothing about a solution


class PublishError(CourseError):
    """DEST cannot take the edition (inside the course, not empty, changed files...)."""


class LeakError(RuntimeError):
    """The staged edition holds a line of a solution or hidden test; nothing was written."""


@dataclass(frozen=True)
class Edition:
    """What ``publish`` wrote: DEST, its files (relative paths) and the notes."""

    dest: Path
    files: tuple[str, ...]
    assignments: tuple[str, ...]
    lectures: tuple[str, ...]
    notes: tuple[str, ...]


def _worth_checking(line: str) -> bool:
    return len(line) >= MIN_LINE and not line.startswith("#")


def secret_lines(notebook: nbformat.NotebookNode) -> tuple[dict[str, str], str]:
    """``notebook``'s secret lines (stripped, worth checking -> "solution", "hidden tests"
    or "mark scheme") and its visible text (every other line: what the student version keeps).

    Regions are nbgrader's: between lines with ``BEGIN SOLUTION`` / ``END SOLUTION``,
    ``BEGIN HIDDEN TESTS`` / ``END HIDDEN TESTS`` or ``BEGIN MARK SCHEME`` / ``END MARK
    SCHEME`` (a rubric); a solution cell without markers (a written answer's model
    answer) is secret as a whole (nbgrader replaces all of it).
    """
    found: dict[str, str] = {}
    visible: list[str] = []
    for cell in notebook.cells:
        whole = is_solution(cell) and "BEGIN SOLUTION" not in cell.source
        kind = "solution" if whole else None
        for raw in cell.source.splitlines():
            line = raw.strip()
            if not whole:
                marker = next((k for k in _MARKERS if k in line), None)
                if marker or any(end in line for end in _ENDS):
                    kind = _MARKERS.get(marker)
                    continue
            if kind is None:
                visible.append(line)
            elif _worth_checking(line):
                found.setdefault(line, kind)
    return found, "\n".join(visible)


def _strings(node) -> list[str]:
    """Every string in a parsed JSON document (a notebook's sources, outputs, metadata)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _text(path: Path) -> str:
    """A file as text; a notebook as its raw JSON and its decoded strings, joined."""
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            raw += "\n" + "\n".join(_strings(json.loads(raw)))
        except json.JSONDecodeError:
            pass
    return raw


def _release(course: Course, scratch: Path, out: Path) -> list[str]:
    """nbgrader's student versions of every assignment, built in a scratch course."""
    copy = course.copy_to(scratch)
    names = copy.assignments()
    for name in names:
        build(copy, name)
        shutil.copytree(copy.folder("release") / name, out / name, ignore=_SKIP)
    return names


def _clean_notebook(src: Path, dest: Path) -> None:
    notebook = nbformat.read(src, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, dest)


def _copy_public(course: Course, stage: Path) -> list[str]:
    """Lectures (outputs cleared), cnnkit and environment.yml; returns the lectures."""
    root = course.root
    for needed in ("course", "cnnkit", "pyproject.toml", "environment.yml"):
        if not (root / needed).exists():
            raise PublishError(f"{root} has no {needed}: the student edition needs it")
    shutil.copytree(root / "course", stage / "course", ignore=_SKIP)
    lectures = sorted(p.name for p in (stage / "course").glob("*.ipynb"))
    for name in lectures:
        _clean_notebook(root / "course" / name, stage / "course" / name)
    shutil.copytree(root / "cnnkit", stage / "cnnkit", ignore=_SKIP)
    shutil.copy(root / "environment.yml", stage / "environment.yml")
    return lectures


def _title(path: Path) -> str:
    """The first Markdown heading of a notebook, without its '#'s."""
    for cell in nbformat.read(path, as_version=4).cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
            if line.startswith("#"):
                return line.lstrip("#").strip()
    return path.stem


def _write_student_files(course: Course, stage: Path, lectures, assignments) -> None:
    project = tomllib.loads((course.root / "pyproject.toml").read_text())["project"]
    deps = "\n".join(f"    {json.dumps(d)}," for d in project["dependencies"])
    pyproject = (TEMPLATES / "pyproject.toml").read_text()
    for key, value in (("version", project["version"]), ("dependencies", deps),
                       ("requires_python", project["requires-python"])):
        pyproject = pyproject.replace("{{%s}}" % key, value)
    (stage / "pyproject.toml").write_text(pyproject)

    table = ["| notebook | topic |", "| --- | --- |"] + [
        f"| `course/{n}` | {_title(stage / 'course' / n)} |" for n in lectures
    ]
    items = []
    for name in assignments:
        for nb in sorted((stage / "assignments" / name).glob("*.ipynb")):
            points = sum(float(c.metadata.nbgrader.get("points", 0))
                         for c in nbformat.read(nb, as_version=4).cells if is_grade(c))
            items.append(f"- `{nb.relative_to(stage)}`: {_title(nb)} ({points:g} points)")
    readme = (TEMPLATES / "README.md").read_text()
    for key, value in (("course_id", course.course_id), ("lectures", "\n".join(table)),
                       ("assignments", "\n".join(items))):
        readme = readme.replace("{{%s}}" % key, value)
    (stage / "README.md").write_text(readme)
    shutil.copy(TEMPLATES / "Makefile", stage / "Makefile")
    shutil.copy(TEMPLATES / "gitignore", stage / ".gitignore")
    shutil.copytree(TEMPLATES / "tests", stage / "tests", ignore=_SKIP)


def _imports(path: Path) -> set[str]:
    """Top-level modules a Python file or a notebook's code cells import."""
    if path.suffix == ".py":
        sources = [path.read_text()]
    else:
        sources = ["\n".join("" if ln.lstrip().startswith(("%", "!")) else ln
                             for ln in c.source.splitlines())
                   for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    names = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # a cell that shows a syntax error on purpose imports nothing
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _check_imports(root: Path, stage: Path) -> None:
    """Refuse an edition whose code imports a module of the course root it lacks."""
    for path in sorted(stage.rglob("*")):
        if path.suffix not in (".py", ".ipynb"):
            continue
        for name in sorted(_imports(path)):
            local = (root / name / "__init__.py").is_file() or (root / f"{name}.py").is_file()
            if local and not (stage / name).exists():
                raise PublishError(
                    f"{path.relative_to(stage)} imports {name}, which is part of the course "
                    f"root but not of the student edition; students could not run it"
                )


def _check_secrets(course: Course, stage: Path) -> list[str]:
    """Raise LeakError if a secret line reached the stage; return notes on shared lines.

    A secret line is excused where the course shows it to students on purpose: in a
    lecture, in cnnkit, or in the visible part of an assignment (its own, or another's:
    ps2 may hand out a helper that ps1 asks for); each such solution line is a note.
    """
    root = course.root
    public = {str(p.relative_to(root)): _text(p)
              for p in [*root.glob("course/*.ipynb"), *root.glob("cnnkit/**/*.py")]}
    secrets = []
    for name in course.assignments():
        for nb in course.source_notebooks(name):
            found, visible = secret_lines(nbformat.read(nb, as_version=4))
            public[f"the student version of {name}"] = visible
            secrets += [(f"source/{name}/{nb.name}", line, kind) for line, kind in found.items()]
    texts = {p: _text(p) for p in sorted(stage.rglob("*")) if p.is_file()}
    leaks, shared = [], {}
    for where, line, kind in secrets:
        shown = [place for place, text in public.items() if line in text]
        if shown:
            if kind == "solution":
                places, lines = shared.setdefault(where, (set(), []))
                places.update(shown)
                lines.append(line)
            continue
        leaks += [f"{kind} line of {where} in {p.relative_to(stage)}: {line}"
                  for p, text in texts.items() if line in text]
    if leaks:
        raise LeakError("the edition would show solutions or hidden tests; nothing was "
                        "written:\n  " + "\n  ".join(leaks[:20]))
    return [f"{len(lines)} solution lines of {where} are shown to students in "
            f"{', '.join(sorted(places))} too; check that they do not give the answer "
            "away:\n    " + "\n    ".join(lines) for where, (places, lines) in shared.items()]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_dest(course: Course, dest: Path, force: bool) -> tuple[Path, dict[str, str]]:
    """DEST resolved and the earlier edition's manifest ({} when DEST is new or empty)."""
    dest = dest.expanduser().resolve()
    root = course.root
    if dest.is_relative_to(root) or root.is_relative_to(dest):
        raise PublishError(f"{dest} is inside the course root {root} (or holds it); publish "
                           "to a folder outside the course, e.g. ../cnn-course-student")
    if dest.exists() and not dest.is_dir():
        raise PublishError(f"{dest} is a file; name a new or empty folder")
    # An empty folder, or a fresh clone of the students' repository (only .git/), is new.
    if not dest.exists() or not any(p.name != ".git" for p in dest.iterdir()):
        return dest, {}
    if not force:
        raise PublishError(f"{dest} is not empty; name a new or empty folder, or pass --force "
                           "to replace an earlier edition there")
    manifest = dest / MANIFEST
    if not manifest.is_file() or manifest.is_symlink():
        raise PublishError(f"{dest} holds no {MANIFEST}, so it is not an edition written by "
                           "publish; --force only replaces an earlier edition")
    old = json.loads(manifest.read_text())["files"]
    changed = [rel for rel in old if (dest / rel).is_symlink()
               or ((dest / rel).is_file() and _sha256(dest / rel) != old[rel])]
    if changed:
        raise PublishError(f"files of the earlier edition in {dest} were changed since it "
                           "was published and would be lost: " + ", ".join(changed[:10])
                           + "; move them away first")
    return dest, old


def _install(stage: Path, dest: Path, old: dict[str, str]) -> list[str]:
    files = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
    for rel in files:
        target = dest / rel
        if any(q.is_symlink() for q in [target, *target.parents] if q.is_relative_to(dest)):
            raise PublishError(f"{target} or a folder above it is a symbolic link; "
                               "publish writes only real folders")
        if (target.exists() or target.is_symlink()) and rel not in old:
            raise PublishError(f"{target} exists and is not a file of the earlier edition; "
                               "move it away first (nothing was written)")
    for rel in old:
        (dest / rel).unlink(missing_ok=True)
    for rel in sorted(old, key=lambda r: -r.count("/")):
        for folder in (dest / rel).parents:
            if folder == dest or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(stage / rel, dest / rel)
    manifest = {"files": {rel: _sha256(dest / rel) for rel in files}}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return files


def publish(course: Course, dest: str | Path, *, force: bool = False) -> Edition:
    """Write the student edition of ``course`` to ``dest`` (see the module docstring)."""
    dest, old = _check_dest(course, Path(dest), force)
    with tempfile.TemporaryDirectory(prefix="cnn-course-edition-") as tmp:
        stage = Path(tmp) / "edition"
        # In order: the released notebooks first (nbgrader's own converter, in a scratch
        # course); then the public parts and the student's files; then the checks, on the
        # complete stage, so that nothing reaches DEST unless all of them pass.
        assignments = _release(course, Path(tmp) / "course", stage / "assignments")
        lectures = _copy_public(course, stage)
        _write_student_files(course, stage, lectures, assignments)
        _check_imports(course.root, stage)
        notes = _check_secrets(course, stage)
        dest.mkdir(parents=True, exist_ok=True)
        files = _install(stage, dest, old)
    return Edition(dest, tuple(files), tuple(assignments), tuple(lectures), tuple(notes))
