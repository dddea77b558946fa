"""What a graded notebook may put on an HTML page: text, PNG/JPEG images, formulas, markdown.

Everything in a graded notebook's outputs comes from a kernel the student controlled (the
instructor's cells included: the student's code ran first and can change what they
display), and the student wrote the answer cells and any cell they added. nbconvert shows
a notebook's HTML and JavaScript outputs as they are, and so do nbgrader's formgrader (in
the instructor's logged-in session) and its feedback; :func:`make_inert` therefore turns a
notebook into one whose HTML rendering runs nothing the student wrote:

- each ``display_data``/``execute_result`` keeps only :data:`KEPT_TYPES` (``text/plain``,
  ``text/latex``, ``image/png``, ``image/jpeg``, all escaped or base64 in nbconvert's
  templates); any other type (HTML, SVG, JavaScript, markdown, widget views, JSON, PDF, ...)
  is replaced by a line in ``text/plain`` that names what is not shown; output metadata
  keeps only numeric image sizes;
- ``stream`` and ``error`` outputs keep text only (the templates escape it), other output
  kinds become a note;
- a markdown cell is kept when its rendering (nbconvert's own ``markdown2html`` and
  ``strip_files_prefix``, as the formgrader and the feedback use them) holds only what
  markdown itself makes, checked by :func:`unsafe_html` against an allow-list (tags,
  attributes, ``http(s)``/``mailto``/relative links, ``data:`` PNG/JPEG/GIF images); else
  every ``<`` that could open a tag is escaped (the HTML shows as the text typed), and if
  that is still not enough the whole cell is shown as text in a code block, after a note;
- attachments other than PNG/JPEG/GIF images and the notebook's saved widget state
  (``metadata.widgets``) are removed.

It changes no cell's metadata, so nbgrader's ids, points, scores and comments stay as they
are, and it is idempotent. Not guaranteed: formulas are shown by MathJax in the formgrader
(loaded from a CDN with its ``Safe`` extension) and as MathML in our feedback
(``autograder/mathml.py`` drops links and styles); both read the student's TeX.

:func:`make_inert` runs on every graded notebook before it is written (``worker``, for
``python -m autograder grade`` and ``nbgrader autograde`` alike); :class:`InertNotebook`,
the same as an nbconvert preprocessor, runs again when the formgrader or the feedback
renders a notebook (``nbgrader_config.py``), so a notebook graded elsewhere is safe too.
"""

from __future__ import annotations

import html
import re
from typing import Any

from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.strings import strip_files_prefix
from nbconvert.preprocessors import Preprocessor
import nbformat
from nbformat import NotebookNode

__all__ = ["KEPT_TYPES", "make_inert", "inert_outputs", "inert_markdown", "unsafe_html",
           "InertNotebook"]

KEPT_TYPES = ("text/plain", "text/latex", "image/png", "image/jpeg")
ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif")

# Tags markdown makes (mistune with nbconvert's plugins, pygments for fenced code) and a few
# harmless ones students type; each with the attributes it may have.
_COMMON_TAGS = (
    "p br hr em strong b i u s del ins sub sup kbd blockquote ul li table thead tbody tfoot "
    "tr dl dt dd caption small mark"
).split()
_ALLOWED: dict[str, set[str]] = {tag: set() for tag in _COMMON_TAGS}
_ALLOWED |= {f"h{n}": {"id"} for n in range(1, 7)}
_ALLOWED |= {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title", "width", "height"},
    "div": {"class"}, "span": {"class"}, "code": {"class"}, "pre": {"class"},
    "th": {"style", "align"}, "td": {"style", "align"},
    "ol": {"start"}, "li": {"class"},
    "input": {"class", "type", "disabled", "checked"},  # task lists: "- [x] done"
}
# Every "<" of the rendering must open one of these, written plainly (double quotes only),
# so that a browser reads the same tag and attributes as this check does.
_TAG = re.compile(r'<(?P<end>/)?(?P<name>[a-z][a-z0-9]*+)(?P<attrs>(?:\s++[a-z][a-z-]*+'
                  r'(?:="[^"<>`]*+")?)*+)\s*+/?>')  # possessive: linear time on any input
_ATTR = re.compile(r'([a-z][a-z-]*)(?:="([^"<>`]*)")?')
_VALUES = {
    "class": re.compile(r"[A-Za-z0-9_ -]*"),
    "width": re.compile(r"[0-9]{1,5}"), "height": re.compile(r"[0-9]{1,5}"),
    "start": re.compile(r"[0-9]{1,9}"),
    "style": re.compile(r"text-align:\s*(left|right|center);?"),
    "align": re.compile(r"left|right|center"),
    "type": re.compile(r"checkbox"),
}
_IMAGE_SRC = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*", re.I)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LINK_SCHEMES = ("http", "https", "mailto")
# Where CommonMark may read raw HTML (a tag name then a space, "/", ">" or the line end; a
# comment, declaration or instruction) or an autolink ("<scheme:"); not "x<y" or "$a<b$".
_TAG_START = re.compile(r"<(?=/?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|[!?]|[A-Za-z][A-Za-z0-9+.-]*:)",
                        re.M)


def _bad_url(attr: str, value: str) -> bool:
    url = re.sub(r"[\x00-\x20\x7f-\x9f]", "", html.unescape(value))  # as a browser reads it
    if attr == "src":
        return not _IMAGE_SRC.fullmatch(url)
    scheme = _SCHEME.match(url)
    return bool(scheme) and scheme.group(1).lower() not in _LINK_SCHEMES


def unsafe_html(fragment: str) -> str | None:
    """The first thing in ``fragment`` that markdown would not have made, or None.

    Args:
        fragment: HTML, e.g. a markdown cell as nbconvert renders it.
    """
    for start in (m.start() for m in re.finditer("<", fragment)):
        tag = _TAG.match(fragment, start)
        if tag is None:
            return f"markup {fragment[start:start + 40]!r}"
        name = tag.group("name")
        if name not in _ALLOWED:
            return f"<{name}>"
        if tag.group("end"):
            continue
        for attr, value in _ATTR.findall(tag.group("attrs")):
            if attr not in _ALLOWED[name]:
                return f"<{name} {attr}=...>"
            pattern = _VALUES.get(attr)
            if (pattern and not pattern.fullmatch(value)) or (
                    attr in ("href", "src") and _bad_url(attr, value)):
                return f'<{name} {attr}="{value[:40]}">'
    return None


def _render(source: str, attachments: dict | None) -> str:
    """A markdown cell as the formgrader and the feedback render it."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, embed_images=False,
                               anchor_link_text="¶")
    return strip_files_prefix(MarkdownWithMath(renderer=renderer).render(source))


def inert_markdown(source: str, attachments: dict | None = None) -> tuple[str, str | None]:
    """``(markdown whose rendering is inert, what was unsafe in the original or None)``."""
    found = unsafe_html(_render(source, attachments))
    if found is None:
        return source, None
    escaped = _TAG_START.sub("&lt;", source)  # an entity: text in prose, as typed
    if unsafe_html(_render(escaped, attachments)) is None:
        return escaped, found
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", source)), default=0))
    return (f"*[grader: shown as text: this cell holds {html.escape(found)}, which a graded "
            f"notebook does not render]*\n\n{fence}text\n{source}\n{fence}\n", found)


def _note(types: list[str]) -> str:
    return (f"[grader: not shown: {', '.join(sorted(types))} output (a graded notebook "
            "shows text and PNG/JPEG images only)]")


def _inert_output(out: dict) -> tuple[dict, list[str]]:
    kind = out.get("output_type")
    if kind == "stream":
        name = out.get("name") if out.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": _text(out.get("text"))}, []
    if kind == "error":
        trace = out.get("traceback")
        return {"output_type": "error", "ename": _text(out.get("ename")),
                "evalue": _text(out.get("evalue")),
                "traceback": [_text(t) for t in trace] if isinstance(trace, list)
                else [_text(trace)]}, []
    if kind not in ("display_data", "execute_result"):
        note = f"[grader: not shown: an output of kind {str(kind)[:40]!r}]"
        return {"output_type": "stream", "name": "stdout", "text": note + "\n"}, [str(kind)]
    raw = out.get("data") if isinstance(out.get("data"), dict) else {}
    data = {k: _text(v) for k, v in raw.items() if k in KEPT_TYPES}
    removed = [str(k) for k in raw if k not in data]
    if removed:
        text = data.get("text/plain", "")
        data["text/plain"] = f"{text}\n{_note(removed)}" if text else _note(removed)
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
    sizes = {}
    for mime in ("image/png", "image/jpeg"):
        given = meta.get(mime) if mime in data else None
        if isinstance(given, dict):
            kept = {k: v for k, v in given.items() if k in ("width", "height")
                    and isinstance(v, int | float) and not isinstance(v, bool)}
            if kept:
                sizes[mime] = kept
    new = {"output_type": kind, "data": data, "metadata": sizes}
    if kind == "execute_result":
        count = out.get("execution_count")
        new["execution_count"] = count if isinstance(count, int) else None
    return new, removed


def _text(value: object) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return value if isinstance(value, str) else str(value)


def inert_outputs(cell: Any) -> list[str]:
    """Make one code cell's outputs inert (in place); returns the output types removed."""
    removed: list[str] = []
    outputs = []
    for out in cell.get("outputs", []):
        new, gone = _inert_output(out if isinstance(out, dict) else {})
        outputs.append(nbformat.from_dict(new))
        removed += gone
    if "outputs" in cell:
        cell["outputs"] = outputs
    return removed


def make_inert(nb: NotebookNode) -> list[str]:
    """Make ``nb`` safe to render as HTML, in place; returns what was changed (for logs)."""
    changed = []
    if "widgets" in nb.get("metadata", {}):
        del nb.metadata["widgets"]
        changed.append("the notebook's widget state")
    for index, cell in enumerate(nb.cells, start=1):
        attachments = cell.get("attachments")
        if isinstance(attachments, dict):
            for name in list(attachments):
                bundle = attachments[name]
                if not isinstance(bundle, dict) or any(k not in ATTACHMENT_TYPES for k in bundle):
                    del attachments[name]
                    changed.append(f"cell {index}: attachment {name!r}")
        if cell.get("cell_type") == "code":
            changed += [f"cell {index}: {t} output" for t in inert_outputs(cell)]
        elif cell.get("cell_type") == "markdown":
            source, found = inert_markdown(_text(cell.get("source", "")),
                                           cell.get("attachments"))
            if found is not None:
                cell["source"] = source
                changed.append(f"cell {index}: markdown with {found}")
    return changed


class InertNotebook(Preprocessor):
    """:func:`make_inert` as an nbconvert preprocessor (for ``HTMLExporter.preprocessors``:
    the formgrader's rendering of a graded notebook and nbgrader's feedback)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        for what in make_inert(nb):
            self.log.info("not shown as HTML: %s", what)
        return nb, resources
