"""nbconvert preprocessors that nbgrader's pipeline lacks (named in ``nbgrader_config.py``)."""

from __future__ import annotations

import re

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Unicode

__all__ = ["HideHiddenTests"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback without hidden test code: the failing check's message, not its source.

    nbgrader's autograded notebooks contain the hidden tests (they had to run), and
    ``generate_feedback`` would show them, in the cell and in every traceback, which
    prints the lines around the failing one. In each grade cell this replaces the hidden
    region by one comment line and each error's traceback by ``ErrorName: message``.
    """

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS", help="start of a hidden region").tag(
        config=True
    )
    end_test_delimeter = Unicode("END HIDDEN TESTS", help="end of a hidden region").tag(config=True)

    def _hide_source(self, source: str) -> str:
        lines, hidden, out = source.split("\n"), False, []
        for line in lines:
            if self.begin_test_delimeter in line:
                hidden = True
                out.append("# (hidden tests are not shown)")
            elif self.end_test_delimeter in line:
                hidden = False
            elif not hidden:
                out.append(line)
        return "\n".join(out)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code" or not is_grade(cell):
            return cell, resources
        cell.source = self._hide_source(cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = _ANSI.sub("", f"{output.ename}: {output.evalue}".rstrip(": "))
                output.traceback = [message]
        return cell, resources
