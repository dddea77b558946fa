"""The instructor's grading pipeline of cnn-course, built on nbgrader's API and gradebook,
with each submission graded in a sandbox (``autograder/sandbox.py``).

Run it as ``python -m autograder --help``. Each subcommand is one step of the pipeline:
``build`` (student versions into ``release/``), ``validate``, ``collect``, ``grade``,
``feedback``, ``export``, ``report``, and ``demo``, which runs them all on the bundled
example submissions.
"""

__all__ = ["Course"]


def __getattr__(name: str):
    if name == "Course":
        from autograder.course import Course

        return Course
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")
