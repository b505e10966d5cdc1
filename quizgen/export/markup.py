"""Markdown with LaTeX math -> safe HTML with MathML, and source code -> highlighted HTML, all offline.

What the caller may rely on: every function here returns a ``markupsafe.Markup`` that is safe to put
into a page as is. Raw HTML in the Markdown is escaped (markdown-it with ``html=False``), images are
not rendered (an ``<img src=...>`` would be a network request), and the MathML that latex2mathml
produces is parsed and re-serialized through an allow-list, because latex2mathml copies the text of
``\\text{...}`` into its output without escaping it. A formula that fails either step is shown as
its escaped LaTeX source instead of breaking the page.

The same pass tidies two things latex2mathml leaves in its text nodes, so that no backslash reaches
the reader: the text-mode escapes inside ``\\text{kv\\_heads}`` (shown as ``kv_heads``) and a command
it does not know, such as ``\\arg``, which it emits as the identifier ``\\arg`` (shown as ``arg``).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from functools import cache, lru_cache

from markupsafe import Markup

from quizgen.maths import DOLLARMATH_OPTIONS

MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"

# MathML Core's presentation elements (plus mfenced, which latex2mathml may emit); nothing that
# links, loads or scripts.
_MATHML_TAGS = frozenset(["math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "munder", "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "merror", "mpadded", "mphantom", "menclose", "mtable", "mtr", "mtd", "mlabeledtr", "mmultiscripts", "mprescripts", "none", "semantics", "mfenced"])
_MATHML_ATTRS = frozenset(["display", "displaystyle", "scriptlevel", "mathvariant", "mathsize", "mathcolor", "mathbackground", "stretchy", "fence", "form", "separator", "separators", "open", "close", "lspace", "rspace", "minsize", "maxsize", "symmetric", "largeop", "movablelimits", "accent", "accentunder", "width", "height", "depth", "voffset", "linethickness", "notation", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame", "framespacing", "equalrows", "equalcolumns"])


_TEXT_ESCAPES = {"\\_": "_", "\\%": "%", "\\#": "#", "\\&": "&", "\\$": "$", "\\{": "{", "\\}": "}", "\\ ": " "}


def _tidy_text(tag: str, text: str) -> str:
    if tag == "mtext":
        for escaped, char in _TEXT_ESCAPES.items():
            text = text.replace(escaped, char)
    elif tag in ("mi", "mo") and text.startswith("\\") and text[1:].isalpha():
        text = text[1:]  # an unknown command: its name, as an operator name is shown
    return text


def _serialize(element: ET.Element, out: list[str]) -> None:
    tag = element.tag.removeprefix(MATHML_NS)
    if tag not in _MATHML_TAGS:
        raise ValueError(f"unexpected element <{tag}> in MathML")
    attrs = "".join(f' {name}="{html.escape(value)}"' for name, value in element.attrib.items()
                    if name in _MATHML_ATTRS and "url(" not in value.lower())
    if tag == "math":
        attrs = ' xmlns="http://www.w3.org/1998/Math/MathML"' + attrs
    out.append(f"<{tag}{attrs}>")
    if element.text:
        out.append(html.escape(_tidy_text(tag, element.text), quote=False))
    for child in element:
        _serialize(child, out)
        if child.tail:
            out.append(html.escape(child.tail, quote=False))
    out.append(f"</{tag}>")


@lru_cache(maxsize=8192)
def latex_to_mathml(latex: str, display: bool = False) -> Markup:
    """One formula as a ``<math>`` element; on any failure, the escaped source in ``<code class="math-error">``."""
    from latex2mathml.converter import convert

    try:
        raw = convert(latex, display="block" if display else "inline")
        out: list[str] = []
        _serialize(ET.fromstring(raw), out)
        return Markup("".join(out))
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds of errors on bad input; none may break the page
        return Markup('<code class="math-error" title="formula could not be rendered">{}</code>').format(latex)


def _render_math(content: str, options: dict) -> str:
    return str(latex_to_mathml(content, bool(options.get("display_mode"))))


@cache
def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")  # ![alt](url) stays text: an image would be fetched from the network
    md.use(dollarmath_plugin, **DOLLARMATH_OPTIONS, renderer=_render_math)
    return md


def markdown_block(text: str) -> Markup:
    """Markdown (paragraphs, lists, tables, code, $math$ and $$display math$$) as HTML."""
    return Markup(_markdown().render(text or ""))


def markdown_inline(text: str) -> Markup:
    """One line of Markdown (emphasis, code, links, $math$) as HTML without a surrounding paragraph."""
    return Markup(_markdown().renderInline(text or ""))


LIGHT_CODE_STYLE = "default"
DARK_CODE_STYLE = "github-dark"
CODE_CSS_CLASS = "highlight"


@lru_cache(maxsize=64)
def _formatter(numbered: bool = False, highlighted: tuple[int, ...] = ()):
    from pygments.formatters import HtmlFormatter

    if numbered:  # line numbers as part of each line, so a phone can scroll the snippet as one box
        return HtmlFormatter(cssclass=CODE_CSS_CLASS, style=LIGHT_CODE_STYLE, linenos="inline",
                             hl_lines=list(highlighted))
    return HtmlFormatter(cssclass=CODE_CSS_CLASS, style=LIGHT_CODE_STYLE)


@cache
def _python_lexer():
    from pygments.lexers import PythonLexer

    return PythonLexer(stripnl=False, ensurenl=True)


def highlight_python(source: str, numbered: bool = False, highlighted=()) -> Markup:
    """Python source as ``<div class="highlight"><pre>...</pre></div>`` with Pygments' token classes;
    ``numbered``: with line numbers, the lines in ``highlighted`` marked (``<span class="hll">``)."""
    from pygments import highlight

    return Markup(highlight(source, _python_lexer(), _formatter(numbered, tuple(highlighted))))


@cache
def code_css() -> Markup:
    """Pygments' CSS for the token classes: the light style, and the dark one on dark screens only.

    Printing always uses the light style (the dark rules sit under ``@media screen``).
    """
    from pygments.formatters import HtmlFormatter

    selector = f".{CODE_CSS_CLASS}"
    light = HtmlFormatter(style=LIGHT_CODE_STYLE).get_token_style_defs(selector)
    dark = HtmlFormatter(style=DARK_CODE_STYLE).get_token_style_defs(selector)
    # A token class the dark style leaves alone would keep the light style's colour: reset those.
    dark_selectors = {rule.split(" {", 1)[0] for rule in dark}
    resets = [f"{rule.split(' {', 1)[0]} {{ color: inherit; font-weight: inherit; font-style: inherit; border: none }}"
              for rule in light if rule.split(" {", 1)[0] not in dark_selectors]
    dark_rules = "\n".join("  " + rule for rule in resets + dark)
    css = (
        f"/* Pygments '{LIGHT_CODE_STYLE}' (light) and '{DARK_CODE_STYLE}' (dark) */\n"
        + "\n".join(light)
        + f"\n@media screen and (prefers-color-scheme: dark) {{\n{dark_rules}\n}}\n"
    )
    return Markup(css)
