"""TeX formulas in feedback HTML as MathML: they render offline, with no script.

nbconvert leaves ``$...$`` and ``$$...$$`` in its HTML for MathJax, which nbgrader's
feedback template loads from a CDN, so a student who opens the file offline sees raw TeX.
:func:`tex_to_mathml` (a Jinja filter that ``nbgrader_config.py`` registers for the
feedback template) typesets on the grader's machine instead: each formula becomes MathML
(``latex2mathml``), which browsers render themselves (Chromium 109+, Firefox, Safari), so
one feedback file works wherever it is copied.

Guaranteed: formulas are found where MathJax would look (``$$...$$``, ``$...$`` and
``\\begin{env}...\\end{env}`` in text outside ``code``, ``pre``, ``script``, ``style`` and
``textarea``); each becomes one ``<math>`` element whose ``alttext`` is its TeX, with
every character of the formula escaped (a ``\\text{<b>}`` stays text); a formula that
latex2mathml cannot read is shown as its TeX source in ``<code class="tex">``.
Not guaranteed: all of TeX (no ``\\newcommand``, no equation numbers).
"""

from __future__ import annotations

import html
import re
from xml.etree.ElementTree import tostring

from bs4 import BeautifulSoup, NavigableString
from latex2mathml.converter import convert_to_element

__all__ = ["tex_to_mathml", "formula_to_mathml"]

# The delimiters of nbconvert's markdown renderer (it writes \[...\] as $$...$$ and \(...\)
# as $...$), tried in this order: display math before inline math. A formula is at most
# _LONGEST characters, so that text full of unclosed delimiters is read in linear time.
_LONGEST = 4000
_MATH = re.compile(
    rf"(?<!\\)\$\$(?P<display>.{{1,{_LONGEST}}}?)(?<!\\)\$\$"
    rf"|(?P<env>\\begin\{{(?P<name>[a-zA-Z]{{0,20}}\*?)\}}.{{0,{_LONGEST}}}?\\end\{{(?P=name)\}})"
    rf"|(?<![$\\])\$(?P<inline>[^$]{{1,{_LONGEST}}}?)(?<![$\\])\$",
    re.S,
)
_SKIP = frozenset({"code", "pre", "script", "style", "textarea", "math"})
# What latex2mathml writes for \href, \style, \class and \cssId: a student's TeX would
# give the page a link (javascript: too) or CSS; the formula keeps its content without them.
_UNSAFE_ATTRIBUTES = ("href", "style", "class", "id")


def formula_to_mathml(tex: str, *, display: bool) -> str:
    """One formula as a ``<math>`` element, or its TeX in ``<code class="tex">``.

    Args:
        tex: the formula without its delimiters, e.g. ``h_{\\text{out}} = n_h``.
        display: a displayed formula (``$$``) rather than one inside a sentence.
    """
    try:
        element = convert_to_element(tex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises plain Exception subclasses on malformed TeX
        element = None
    if element is not None:
        for node in element.iter():
            # latex2mathml writes operators as entity text ("&#x0003C;"): make them
            # characters, so that tostring escapes them and any text of the formula alike.
            node.text = html.unescape(node.text) if node.text else node.text
            node.tail = html.unescape(node.tail) if node.tail else node.tail
            for name in _UNSAFE_ATTRIBUTES:  # \href{javascript:...}, \style{...}: not kept
                node.attrib.pop(name, None)
        if not any("\\" in (node.text or "") for node in element.iter()):  # no unknown command
            element.set("alttext", tex.strip())
            return tostring(element, encoding="unicode")
    delimiter = "$$" if display else "$"
    return f'<code class="tex">{html.escape(f"{delimiter}{tex}{delimiter}")}</code>'


def _typeset(text: str) -> str | None:
    """``text`` as HTML with its formulas in MathML; None when it holds none."""
    pieces, last = [], 0
    for match in _MATH.finditer(text):
        pieces.append(html.escape(text[last : match.start()], quote=False))
        if match.group("inline") is not None:
            pieces.append(formula_to_mathml(match.group("inline"), display=False))
        else:
            pieces.append(formula_to_mathml(match.group("display") or match.group("env"),
                                            display=True))
        last = match.end()
    if not last:
        return None
    pieces.append(html.escape(text[last:], quote=False))
    return "".join(pieces)


def tex_to_mathml(fragment: str) -> str:
    """An HTML fragment (a rendered markdown cell) with every formula typeset as MathML."""
    if "$" not in fragment and "\\begin{" not in fragment:
        return fragment
    soup = BeautifulSoup(fragment, "html.parser")
    for text in list(soup.find_all(string=True)):
        if type(text) is not NavigableString or any(p.name in _SKIP for p in text.parents):
            continue
        typeset = _typeset(str(text))
        if typeset is not None:
            text.replace_with(BeautifulSoup(typeset, "html.parser"))
    return str(soup)
