"""The limits of one submission's run, in one place.

:class:`Limits` is the value that travels (a frozen, picklable dataclass with the only
defaults); :class:`GradingLimits` is how ``nbgrader_config.py`` sets it, as nbgrader's own
options are set (``c.GradingLimits.memory_mb = 2048``). ``python -m autograder grade
--help`` lists every option with its help and default.

nbgrader's ``c.LimitOutput.max_lines`` and ``max_traceback`` are honoured too: the graded
notebook keeps at most that many lines of each test's printed output and traceback
(nbgrader's own ``LimitOutput`` preprocessor does it, in the worker), after the byte cap
of ``output_bytes`` that protects the grader while the output arrives.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from nbgrader.preprocessors import LimitOutput
from traitlets import Int
from traitlets.config import Config, Configurable

__all__ = ["GradingLimits", "Limits", "limits_from_config", "options_help"]


@dataclass(frozen=True)
class Limits:
    """Resource and time limits of one submission's sandbox and run."""

    memory_mb: int = 4096  # resident memory of all its processes (watched by the worker)
    address_space_mb: int = 16384  # per process (RLIMIT_AS); CUDA builds map a lot
    cpu_seconds: int = 1800  # per process (RLIMIT_CPU)
    processes: int = 256  # threads included (RLIMIT_NPROC, counted per uid)
    file_mb: int = 128  # largest file it may write (RLIMIT_FSIZE)
    tmp_mb: int = 512  # the tmpfs holding its work folder and /tmp
    open_files: int = 1024
    cell_timeout_s: int = 300  # one cell; the cell is interrupted, the next one runs
    startup_timeout_s: int = 120  # the sandboxed kernel's start
    notebook_deadline_s: int = 3600  # the whole notebook (at most cell_timeout_s per cell)
    output_bytes: int = 64 * 2**10  # kept per cell while the output arrives
    output_lines: int = LimitOutput.max_lines.default_value  # c.LimitOutput.max_lines
    traceback_lines: int = LimitOutput.max_traceback.default_value  # c.LimitOutput.max_traceback

    def deadline_for(self, code_cells: int) -> int:
        """The whole run's wall-time limit for a notebook of ``code_cells`` code cells."""
        return min(self.notebook_deadline_s, self.cell_timeout_s * max(code_cells, 1))


_DEFAULTS = Limits()

_HELP = {
    "memory_mb": "Resident memory (MB) of all the processes of one submission's sandbox; "
                 "past it the sandbox is killed and the run stops with that reason.",
    "address_space_mb": "Address space (MB) per process (RLIMIT_AS; not applied where a GPU "
                        "is present, since CUDA reserves far more than it uses).",
    "cpu_seconds": "CPU seconds per process (RLIMIT_CPU).",
    "processes": "Processes and threads of one sandbox (RLIMIT_NPROC, per sandbox uid).",
    "file_mb": "Largest file (MB) a submission may write (RLIMIT_FSIZE).",
    "tmp_mb": "Size (MB) of the tmpfs holding the submission's work folder and /tmp.",
    "open_files": "Open files per process (RLIMIT_NOFILE).",
    "cell_timeout_s": "Seconds one cell may run; it is then interrupted and marked timed out, "
                      "and the next cell runs (grade --timeout overrides it).",
    "startup_timeout_s": "Seconds the sandboxed kernel may take to start.",
    "notebook_deadline_s": "Seconds the whole notebook may run (and at most cell_timeout_s "
                           "per code cell); past it the sandbox is killed.",
    "output_bytes": "Bytes of output kept per cell while it arrives; the rest is dropped and "
                    "the graded notebook says how much.",
}


def _limit(name: str) -> Int:
    """The traitlet of one limit: the dataclass's default, the help above."""
    return Int(getattr(_DEFAULTS, name), help=_HELP[name]).tag(config=True)


class GradingLimits(Configurable):
    """Limits of every submission's sandbox and run (``python -m autograder grade``,
    ``nbgrader autograde`` and the formgrader's Autograde button)."""

    memory_mb = _limit("memory_mb")
    address_space_mb = _limit("address_space_mb")
    cpu_seconds = _limit("cpu_seconds")
    processes = _limit("processes")
    file_mb = _limit("file_mb")
    tmp_mb = _limit("tmp_mb")
    open_files = _limit("open_files")
    cell_timeout_s = _limit("cell_timeout_s")
    startup_timeout_s = _limit("startup_timeout_s")
    notebook_deadline_s = _limit("notebook_deadline_s")
    output_bytes = _limit("output_bytes")


def limits_from_config(config: Config, **overrides: int | None) -> Limits:
    """The :class:`Limits` that ``config`` (a course's ``nbgrader_config.py``) sets, with
    ``overrides`` that are not None on top (e.g. ``cell_timeout_s`` from ``--timeout``).

    Raises:
        ValueError: a limit that is not a positive whole number, naming the option.
    """
    configured = GradingLimits(config=config)
    output = LimitOutput(config=config)
    values = {name: getattr(configured, name) for name in _HELP}
    values.update(output_lines=output.max_lines, traceback_lines=output.max_traceback)
    values.update({k: v for k, v in overrides.items() if v is not None})
    for name, value in values.items():
        if name in _HELP and value < 1:
            option = f"c.GradingLimits.{name}" if name not in overrides else name
            raise ValueError(f"{option} must be a positive whole number, not {value}")
    return Limits(**values)


def options_help() -> str:
    """The options of ``nbgrader_config.py`` that set the limits, for ``grade --help``."""
    lines = ["limits (set in nbgrader_config.py, e.g. c.GradingLimits.memory_mb = 2048):"]
    for name, text in _HELP.items():
        lines.append(f"  c.GradingLimits.{name} = {getattr(_DEFAULTS, name)}")
        lines += textwrap.wrap(text, 78, initial_indent=" " * 6, subsequent_indent=" " * 6)
    lines.append(f"  c.LimitOutput.max_lines = {_DEFAULTS.output_lines}, "
                 f"c.LimitOutput.max_traceback = {_DEFAULTS.traceback_lines}")
    lines += textwrap.wrap("nbgrader's own: lines of printed output and of a traceback kept "
                           "per cell in the graded notebook (-1: no limit)", 78,
                           initial_indent=" " * 6, subsequent_indent=" " * 6)
    return "\n".join(lines)
