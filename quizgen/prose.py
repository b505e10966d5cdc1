"""The bank's Markdown in the terminal, formulas included: a rich renderable in which every ``$...$``
and ``$$...$$`` is shown as Unicode text (``quizgen.maths``).

The Markdown is parsed once, with the same dollar-math syntax as the study sheet, so a formula is a
token of its own before rich sees anything: the Markdown step cannot read the underscores of
``\\mathcal{L}_{aux}`` as emphasis or eat the backslash of ``\\{``. The formula's Unicode text then
takes the token's place as plain text (inline) or as an indented block of its own (display).
``inline`` does the same for one line (an option), as rich Text.
"""

from __future__ import annotations

import io
from functools import cache

from markdown_it.token import Token
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import Markdown, MarkdownContext, TextElement
from rich.padding import Padding
from rich.style import Style
from rich.text import Text

from quizgen.maths import (
    DOLLARMATH_OPTIONS,
    MATH_BLOCK_TOKENS,
    MATH_TOKENS,
    latex_to_unicode,
)


@cache
def _parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return md.use(dollarmath_plugin, **DOLLARMATH_OPTIONS)


def _with_unicode_maths(tokens: list[Token]) -> list[Token]:
    out = []
    for token in tokens:
        if token.type in MATH_TOKENS:
            token = Token("text", "", 0, content=latex_to_unicode(token.content))
        elif token.type in MATH_BLOCK_TOKENS:
            token = Token("math_block", "math", 0, content=latex_to_unicode(token.content), block=True)
        elif token.children:
            token.children = _with_unicode_maths(token.children)
        out.append(token)
    return out


class MathBlock(TextElement):
    """A display formula: its own lines, indented."""

    style_name = "markdown.paragraph"
    new_line = True

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> MathBlock:
        return cls()

    def on_enter(self, context: MarkdownContext) -> None:
        super().on_enter(context)
        self.text.no_wrap = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Padding(self.text, (0, 0, 0, 4), expand=False)


class MathMarkdown(Markdown):
    """rich's Markdown, parsed with dollar maths and showing each formula as Unicode."""

    elements = {**Markdown.elements, "math_block": MathBlock}

    def __init__(self, markup: str, **options) -> None:
        super().__init__("", **options)
        self.markup = markup
        self.parsed = _with_unicode_maths(_parser().parse(markup or ""))


def markdown(text: str, style: str | Style = "none") -> MathMarkdown:
    """``text`` (the bank's Markdown) as a renderable for ``Console.print``."""
    # justify="default": paragraphs are not padded with spaces to the full width (as "left" would)
    return MathMarkdown(text or "", style=style, code_theme="ansi_dark", hyperlinks=False, justify="default")


_INLINE_STYLES = {"em": "italic", "strong": "bold", "s": "strike", "code": "bold", "a": "underline"}


def inline(text: str, style: str | Style = "") -> Text:
    """One line of the bank's Markdown (an option, a rubric point) as rich Text: emphasis, code and
    maths, no paragraphs, so that it measures as wide as its words (tables do not pad it)."""
    out = Text(style=style)
    styles: list[str] = []
    for token in _parser().parseInline(text or "")[0].children or []:
        if token.type in MATH_TOKENS:
            out.append(latex_to_unicode(token.content), " ".join(styles))
        elif token.type in ("text", "code_inline"):
            extra = [_INLINE_STYLES["code"]] if token.type == "code_inline" else []
            out.append(token.content, " ".join(styles + extra))
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" " if token.type == "softbreak" else "\n")
        elif token.nesting == 1:
            styles.append(_INLINE_STYLES.get(token.tag, ""))
        elif token.nesting == -1 and styles:
            styles.pop()
    return out


def plain(text: str, width: int = 100) -> str:
    """``text`` rendered as it would be in a terminal ``width`` columns wide, without colours."""
    console = Console(width=width, no_color=True, highlight=False, file=io.StringIO())
    with console.capture() as captured:
        console.print(markdown(text))
    return captured.get().rstrip()
