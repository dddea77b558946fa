"""The adversarial matrix of issue 5 as ``ps4_channels`` submissions, with exact scores.

ps4 has four answer cells (corr2d, corr2d_multi_in, corr2d_multi_in_out,
conv1x1_as_matmul), each followed by two test cells worth 1 + 2, 1 + 2, 1 + 3 and 1 + 3
points (14 in all). Every hostile student starts from alice's correct answers or from
answers that are all wrong (zeros of the right shape), then adds one attack. The number
is the item of the issue's matrix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.submissions import EXAMPLES, make_submission, parse_answers

ASSIGNMENT = "ps4_channels"
NOTEBOOK = "ps4_channels.ipynb"
ANSWER_IDS = ["corr2d", "corr2d_multi_in", "corr2d_multi_in_out", "conv1x1_as_matmul"]

WRONG = {
    "corr2d": "def corr2d(X, K):\n"
    "    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)\n",
    "corr2d_multi_in": "def corr2d_multi_in(X, K):\n"
    "    return torch.zeros(X.shape[1] - K.shape[1] + 1, X.shape[2] - K.shape[2] + 1)\n",
    "corr2d_multi_in_out": "def corr2d_multi_in_out(X, K):\n"
    "    c_o, _, k_h, k_w = K.shape\n"
    "    return torch.zeros(c_o, X.shape[1] - k_h + 1, X.shape[2] - k_w + 1)\n",
    "conv1x1_as_matmul": "def conv1x1_as_matmul(X, K):\n"
    "    return torch.zeros(K.shape[0], X.shape[1], X.shape[2])\n",
}


def correct() -> dict[str, str]:
    return parse_answers((EXAMPLES / ASSIGNMENT / "alice.py").read_text())


def _with(answers: dict[str, str], grade_id: str, extra: str, *, before: bool = False):
    answers = dict(answers)
    answers[grade_id] = (extra + "\n" + answers[grade_id]) if before else (
        answers[grade_id] + "\n" + extra)
    return answers


def _cells(nb, pred: Callable[[dict], bool]) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if pred(c.metadata.get("nbgrader", {}))]


def _is_test(nbg: dict) -> bool:
    return bool(nbg.get("grade")) and not nbg.get("solution")


# Attacks that run inside the student's kernel, before the tests.
STRIP_ASSERTS = """
def _strip(lines):
    out = []
    for line in lines:
        line = line.replace("torch.testing.assert_close(", "(lambda *a, **k: None)(")
        if line.lstrip().startswith("assert "):
            line = line[: len(line) - len(line.lstrip())] + "pass\\n"
        out.append(line)
    return out
get_ipython().input_transformers_post.append(_strip)
"""
PATCH_CHECKS = """
import math, torch, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
math.isclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
"""
SILENCE_TRACEBACKS = """
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip.showsyntaxerror = lambda *a, **k: None
"""
ALWAYS_EQUAL = """
class Anything(torch.Tensor):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False

class Whatever:
    shape = property(lambda self: self)
    def __eq__(self, other):
        return True
    def __iter__(self):
        return iter([])
    def __getattr__(self, name):
        return self

def corr2d(X, K):
    return Whatever()

def corr2d_multi_in(X, K):
    return Whatever()

def corr2d_multi_in_out(X, K):
    return torch.zeros(1).as_subclass(Anything)

def conv1x1_as_matmul(X, K):
    return Whatever()
"""
FAKE_RESULTS = """
import json, pickle, os
from IPython.display import publish_display_data
MIME = "application/vnd.cnn-course.observation+json"
for name in ("grading.json", "results.json", "../grading.json", "/tmp/grading.json"):
    try:
        with open(name, "w") as f:
            json.dump({"score": 14, "max_score": 14, "status": "graded"}, f)
    except OSError as e:
        print("could not write", name, e)
with open("results.pkl", "wb") as f:
    pickle.dump({"score": 14}, f)
def _forge(*args, **kwargs):
    for key in ("Y", "value", "result", "corr2d", "shape", "out"):
        publish_display_data({MIME: {"key": key, "value": 0, "rule": {"check": "bounds"}}})
get_ipython().events.register("post_run_cell", _forge)
_forge()
"""
NETWORK = """
import socket, urllib.request
for target in [("127.0.0.1", {port}), ("localhost", {port})]:
    try:
        socket.create_connection(target, timeout=3).close()
        print("CONNECTED", target)
    except OSError as e:
        print("blocked:", target, type(e).__name__)
try:
    urllib.request.urlopen("http://pypi.org", timeout=3)
    print("CONNECTED pypi")
except Exception as e:
    print("blocked: pypi", type(e).__name__)
"""
SNOOP = """
import os, sqlite3
for path in {paths!r}:
    try:
        with open(path, "rb") as f:
            print("READ", path, len(f.read()))
    except OSError as e:
        print("denied:", path, type(e).__name__)
for path in {writes!r}:
    try:
        with open(path, "ab") as f:
            f.write(b"hacked")
        print("WROTE", path)
    except OSError as e:
        print("denied:", path, type(e).__name__)
try:
    con = sqlite3.connect({gradebook!r})
    con.execute("update grade set manual_score = 99")
    con.commit()
    print("WROTE gradebook")
except Exception as e:
    print("denied: gradebook", type(e).__name__)
print("home:", sorted(os.listdir("/root")) if os.path.isdir("/root") else "no /root")
"""
DETACHED = """
import os, subprocess, sys
subprocess.Popen(["sleep", "4243"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "4244"])
    os._exit(0)
"""
BUSY_LEFT_BEHIND = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.time()  # 4245"],
                 start_new_session=True)
"""
MEMORY_HOG = """
chunks = []
while True:
    chunks.append(b"x" * (256 * 2**20))
"""
FORK_BOMB = """
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        children += 1
except OSError as e:
    print("fork stopped after", children, "children:", type(e).__name__)
"""
HUGE_ALLOC = """
import torch
device = "cuda" if torch.cuda.is_available() else "cpu"
try:
    too_big = torch.empty(2**40, device=device)
except (RuntimeError, MemoryError) as e:
    print("allocation failed:", type(e).__name__)
"""
PATCHED_FORBIDDEN_CHECK = """
import contextlib
import cnnkit.checks
cnnkit.checks.forbidden_used = lambda *a, **k: []
cnnkit.checks.assert_not_used = lambda *a, **k: None
cnnkit.checks.forbidden_calls = lambda *a, **k: contextlib.nullcontext()

def corr2d(X, K):
    return F.conv2d(X[None, None], K[None, None])[0, 0]
"""
SCRIPT_OUTPUT = """
from IPython.display import HTML, Javascript, display
display(HTML("<script>window.__pwned = 1</script><img src=x onerror='window.__pwned = 1'>"))
display(Javascript("window.__pwned = 1"))
"""
BIG_PRINT = "print('x' * (50 * 2**20))"
STDERR = """
import sys, warnings
warnings.warn("a warning from the student's code", UserWarning)
print("some noise on stderr", file=sys.stderr)
_corr2d = corr2d
def corr2d(X, K):
    print("corr2d called", file=sys.stderr)
    warnings.warn("deprecated-ish", DeprecationWarning)
    return _corr2d(X, K)
"""


def build_matrix(release: Path, course_root: Path, port: int) -> dict[str, tuple[object, int]]:
    """``{student: (notebook or raw text or None, expected score)}``."""
    released = release / ASSIGNMENT / NOTEBOOK
    good = correct()

    def nb(answers):
        return make_submission(released, answers)

    m: dict[str, tuple[object, int]] = {}
    m["alice"] = (nb(good), 14)
    m["bob"] = (nb(parse_answers((EXAMPLES / ASSIGNMENT / "bob.py").read_text())), 6)
    m["dan"] = (nb({}), 0)
    # 1. os._exit in the third answer cell: the six points before it stay.
    m["m01_os_exit"] = (nb(_with(good, "corr2d_multi_in_out", "import os\nos._exit(0)")), 6)
    # 2. an infinite loop after a correct definition: interrupted, later cells graded.
    m["m02_infinite_loop"] = (nb(_with(good, "corr2d", "while True:\n    pass")), 14)
    # 3. one answer cell and a heading cell in nbformat 3's schema.
    old = json.loads(nbformat.writes(nb(good)))
    for cell in old["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "corr2d":
            cell["input"] = cell.pop("source")
            cell["prompt_number"] = 3
            cell["language"] = "python"
    old["cells"].insert(1, {"cell_type": "heading", "level": 1, "source": "Old", "metadata": {}})
    m["m03_old_schema"] = (json.dumps(old), 14)
    # 4. a duplicated test cell; 5. deleted test cells; 6. edited tests hiding a wrong answer.
    dup = json.loads(nbformat.writes(nb(good)))  # raw JSON: the copy keeps the cell's id
    first = _cells(nbformat.from_dict(dup), _is_test)[0]
    dup["cells"].insert(first + 1, json.loads(json.dumps(dup["cells"][first])))
    m["m04_duplicated_test"] = (json.dumps(dup), 14)
    deleted = nb(good)
    deleted.cells = [c for c in deleted.cells if not _is_test(c.metadata.get("nbgrader", {}))]
    m["m05_deleted_tests"] = (deleted, 14)
    edited = nb({**good, "conv1x1_as_matmul": WRONG["conv1x1_as_matmul"]})
    for i in _cells(edited, _is_test):
        if "conv1x1" in edited.cells[i].metadata["nbgrader"]["grade_id"]:
            edited.cells[i].source = "pass"
    m["m06_edited_tests"] = (edited, 10)
    # 7. inflated points; 8. renamed grade_ids on the tests of a wrong answer.
    inflated = nb(good)
    for i in _cells(inflated, _is_test):
        inflated.cells[i].metadata["nbgrader"]["points"] = 100
    m["m07_inflated_points"] = (inflated, 14)
    renamed = nb({**good, "conv1x1_as_matmul": WRONG["conv1x1_as_matmul"]})
    for i in _cells(renamed, _is_test):
        nbg = renamed.cells[i].metadata["nbgrader"]
        if "conv1x1" in nbg["grade_id"]:
            nbg["grade_id"] += "_mine"
            nbg["points"] = 50
            renamed.cells[i].source = "pass"
    m["m08_renamed_grade_id"] = (renamed, 10)
    # 9. a kernelspec that does not exist.
    bogus = nb(good)
    bogus.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "x",
                                    "language": "python"}
    m["m09_bogus_kernelspec"] = (bogus, 14)
    # 10. corrupt JSON; a missing notebook (None: the folder holds another file).
    m["m10_corrupt_json"] = (nbformat.writes(nb(good))[:-200], 0)
    m["m10_missing_notebook"] = (None, 0)
    # 11. a 50 MB print; 12. warnings and prints on stderr, in the tests too.
    m["m11_big_print"] = (nb(_with(good, "corr2d", BIG_PRINT)), 14)
    m["m12_stderr"] = (nb(_with(good, "corr2d", STDERR)), 14)
    # 13-15, 22: wrong answers that try to pass by tampering with the checks.
    wrong = dict(WRONG)
    m["m13_assert_stripper"] = (nb(_with(wrong, "corr2d", STRIP_ASSERTS, before=True)), 0)
    m["m14_patched_checks"] = (nb(_with(wrong, "corr2d", PATCH_CHECKS, before=True)), 0)
    m["m15_silenced_tracebacks"] = (nb(_with(wrong, "corr2d", SILENCE_TRACEBACKS, before=True)), 0)
    m["m22_always_equal"] = (nb({**wrong, "corr2d": ALWAYS_EQUAL}), 0)
    # 16. reading the hidden tests, the gradebook, other students; writing the gradebook.
    source_nb = str(course_root / "source" / ASSIGNMENT / NOTEBOOK)
    gradebook = str(course_root / "gradebook.db")
    snoop = SNOOP.format(
        paths=[source_nb, gradebook, str(course_root / "submitted" / "alice" / ASSIGNMENT
                                         / NOTEBOOK), "/root/.bashrc"],
        writes=[gradebook, source_nb], gradebook=gradebook)
    m["m16_snoop"] = (nb(_with(good, "corr2d", snoop)), 14)
    # 17. detached children; 23. a busy process left behind for the next student.
    m["m17_detached_child"] = (nb(_with(good, "corr2d", DETACHED)), 14)
    m["m23_left_behind"] = (nb(_with(good, "corr2d", BUSY_LEFT_BEHIND)), 14)
    # 18. sys.exit(0) instead of the last answer: an error, not a pass.
    m["m18_sys_exit"] = (nb({**good, "conv1x1_as_matmul": "import sys\nsys.exit(0)"}), 10)
    # 19. a memory hog (killed: the last answer's tests are lost), a fork bomb, a huge
    #     allocation (CUDA out of memory on a GPU; on the CPU the allocator refuses).
    m["m19_memory_hog"] = (nb(_with(good, "conv1x1_as_matmul", MEMORY_HOG)), 10)
    m["m19_fork_bomb"] = (nb(_with(good, "corr2d", FORK_BOMB)), 14)
    m["m19_huge_alloc"] = (nb(_with(good, "corr2d", HUGE_ALLOC)), 14)
    # 20. network; 21. fake results files, pickles and forged observations.
    m["m20_network"] = (nb(_with(good, "corr2d", NETWORK.format(port=port))), 14)
    m["m21_fake_results"] = (nb(_with(wrong, "corr2d", FAKE_RESULTS, before=True)), 0)
    # 24. (beyond the issue) right values from the forbidden library call, with the kernel's
    #     forbidden-name checks patched away: the grader reads the code itself. The three
    #     tests that forbid conv2d (corr2d and the two built on it) fail: 14 - 2 - 2 - 3.
    m["m24_patched_forbidden_check"] = (nb({**good, "corr2d": PATCHED_FORBIDDEN_CHECK}), 7)
    # 25. (issue 12) HTML and JavaScript outputs for the instructor's browser: graded as usual,
    #     written to autograded/ as a note (autograder/sanitize.py).
    m["m25_script_output"] = (nb(_with(good, "corr2d", SCRIPT_OUTPUT)), 14)
    return m


def write_submissions(matrix: dict[str, tuple[object, int]], submitted: Path) -> None:
    for student, (content, _score) in matrix.items():
        folder = submitted / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        if content is None:
            (folder / "my_notes.txt").write_text("I forgot the notebook\n")
        elif isinstance(content, str):
            (folder / NOTEBOOK).write_text(content)
        else:
            nbformat.write(content, folder / NOTEBOOK)
