"""nbgrader configuration of cnn-course: this folder is the course root.

Used by `python -m autograder ...` and by nbgrader's own commands (`nbgrader
generate_assignment ps1_output_shapes`, `nbgrader autograde ...`) run from this folder.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

ROOT = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = str(ROOT)
# gradebook.db, release/, submitted/, autograded/ and feedback/ live here and are git-ignored.
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"
# Files nbgrader never copies between its folders (grading.json: the grader's own record).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "grading.json"
]

# Every student notebook starts with the course's instructions.
c.IncludeHeaderFooter.header = str(ROOT / "source" / "header.ipynb")
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Written answers (manually graded markdown cells, grade_id written_*): the rubric is in the
# read-only question cell above each, between "=== BEGIN MARK SCHEME ===" and "=== END MARK
# SCHEME ===". nbgrader's ClearMarkScheme removes it from the student version; it may sit
# outside task cells because the grader puts the source's question cells back into the
# graded notebook (so the formgrader shows the rubric, autograder/merge.py) and the feedback
# removes it again (ClearMarkScheme in GenerateFeedback.preprocessors below).
c.ClearMarkScheme.enforce_metadata = False

# The grader's limits per submission (autograder/limits.py; `python -m autograder grade
# --help` lists them all with their defaults). A cell may train a small network on the CPU
# (ps3 takes ~20 s on 2 cores).
c.GradingLimits.cell_timeout_s = 300  # seconds per cell
c.GradingLimits.startup_timeout_s = 120  # seconds for the sandboxed kernel to start
c.GradingLimits.memory_mb = 4096  # resident memory of one submission's processes
# nbgrader's own Validate runs (a student's own work, unsandboxed) get the same timeouts.
c.Execute.timeout = c.GradingLimits.cell_timeout_s
c.Execute.startup_timeout = c.GradingLimits.startup_timeout_s
# nbgrader's default (no history file), and a kernel that keeps its start-up warnings to
# itself instead of printing them once per student.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
# Lines of printed output and traceback kept per cell (nbgrader's LimitOutput; the grader
# applies it to every graded notebook).
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# Grading on a Dask cluster (autograder/cluster.py; README, "Grading on a cluster"):
# `grade --scheduler tcp://HOST:8786`, or set it here. Assignments named here ask for a
# worker started with `--resources GPU=1` (on the CPU where the cluster has none).
# c.ClusterGrading.scheduler = "tcp://grader-head:8786"
c.ClusterGrading.gpu_assignments = ["ps3_lenet_variants", "ps6_transfer_learning"]

# `nbgrader autograde` and the formgrader's Autograde button grade like `python -m autograder
# grade` (autograder/nbgrader_bridge.py): the submission runs in the sandbox and the tests are
# decided outside it, or it is not graded. In order:
# - sanitize: only clear outputs. SandboxedGrading reads the student's own file from
#   submitted/, as `grade` does; nbgrader's other sanitizers (OverwriteCells,
#   CheckCellMetadata) would only refuse notebooks that `grade` scores.
# - autograde: SandboxedGrading (replaces Execute; returns our graded notebook) first,
#   then SaveAutoGrades records its points (nothing may change the outputs in between),
#   ApplyDueDates (CourseDeadlines below, into the gradebook), AssignLatePenalties (which
#   reads that due date), and CheckCellMetadata on what was recorded.
c.Autograde.sanitize_preprocessors = ["nbgrader.preprocessors.ClearOutput"]
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_bridge.SandboxedGrading",
    "nbgrader.preprocessors.SaveAutoGrades",
    "autograder.late.ApplyDueDates",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Due dates and late work (autograder/late.py). Each due date needs its time zone; `build`,
# `grade` and nbgrader's autograde write them into the gradebook (an assignment not named
# here keeps the gradebook's own, from `nbgrader db assignment add --duedate` or the
# formgrader). A submission's time is submitted/<student>/<assignment>/timestamp.txt.
c.CourseDeadlines.due_dates = {
    # "ps1_output_shapes": "2026-12-07 17:00:00 Europe/Berlin",
}
# The penalty, the same for `python -m autograder grade` and `nbgrader autograde`: after
# 15 minutes of grace, 10% of the points earned per started day late, at most 50%; more
# than 7 days late scores 0. `python -c "import autograder.late as l; help(l.LatePenalty)"`
c.AssignLatePenalties.plugin_class = "autograder.late.LatePenalty"
c.LatePenalty.percent_per_period = 10.0
c.LatePenalty.period_hours = 24.0
c.LatePenalty.max_percent = 50.0
c.LatePenalty.grace_minutes = 15.0
c.LatePenalty.zero_after_hours = 7 * 24.0

# Feedback a student can read, offline (autograder/preprocessors.py, autograder/templates/):
# in order, GetGrades reads the scores, HideHiddenTests (nbgrader's ClearHiddenTests on the
# test cells, subclassed) removes hidden test code and tracebacks, SummarizeTests (which
# needs both) lists each test's name, docstring, score and reason for the top of the page.
# The template, set for GenerateFeedback only (the formgrader keeps its own), heads each
# test by its grade_id and docstring and loads no script: formulas become MathML when the
# HTML is written (autograder/mathml.py).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearMarkScheme",
    "autograder.preprocessors.HideHiddenTests",
    "autograder.preprocessors.SummarizeTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.GenerateFeedback.HTMLExporter.template_name = "cnn_feedback"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    str(Path(__import__("autograder").__file__).parent / "templates")
]
c.GenerateFeedback.HTMLExporter.filters = {"tex_to_mathml": "autograder.mathml.tex_to_mathml"}

# Every graded notebook is written inert (`grade` and `nbgrader autograde`: outputs only as
# text and PNG/JPEG, Markdown whose HTML or links would act shown as text; autograder/
# sanitize.py); every page nbgrader renders of one (formgrader, feedback) does it again
# first, for a notebook graded elsewhere; the feedback also has nbconvert's sanitizer on.
c.HTMLExporter.preprocessors = ["autograder.sanitize.InertNotebook"]
c.GenerateFeedback.HTMLExporter.sanitize_html = True

# `nbgrader export` writes per-test-cell points, not only totals (autograder/export.py).
c.ExportApp.plugin_class = "autograder.export.PerCellCsvExportPlugin"

# On JupyterHub, with nbgrader's exchange (set c.Exchange.root, e.g. in
# /etc/jupyter/nbgrader_config.py): `nbgrader collect` never follows a student's links and
# takes a submission only from a folder its student owns, with a safe id and a valid time
# (autograder/exchange.py says why). One shared unix account: c.ExchangeCollect.check_owner
# = False.
c.ExchangeFactory.collect = "autograder.exchange.SafeCollect"

# nbgrader's Validate (the notebook toolbar's button, `nbgrader validate`) runs a notebook
# unsandboxed, with your privileges: fine for a student's own work, source/ and release/;
# it refuses a notebook in submitted/, autograded/, feedback/ or downloaded/ (a student's
# code runs only in the grading sandbox; autograder/validate_guard.py says what it covers).
from autograder.validate_guard import RefuseStudentWork  # noqa: E402

c.Validator.Execute.on_cell_start = RefuseStudentWork(ROOT)
