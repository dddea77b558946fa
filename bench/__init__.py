"""cnn-course's benchmarks: ``make bench`` or ``python -m bench`` (see ``bench/README.md``).

One module per section (``training``, ``grading``, ``cluster``, ``course``, ``widgets``,
``gpu``), each with ``run(*, quick: bool) -> dict`` whose ``"summary"`` rows make the
printed table;
:mod:`bench.stats` holds the alternating A/B comparison every ratio comes from.
"""

SECTIONS = ("training", "grading", "cluster", "course", "widgets", "gpu")

__all__ = ["SECTIONS"]
