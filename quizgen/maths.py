"""Maths in the bank's Markdown: where a formula is (one syntax, for the study sheet and the terminal
alike), and a formula as readable Unicode text for the terminal.

``latex_to_unicode`` parses the LaTeX with pylatexenc and converts its node tree with pylatexenc's
``LatexNodes2Text``, extended where that leaves the formula unreadable or wrong: ``x_{i}`` and
``10^{-2}`` (it prints ``x_i``, ``10^-2`` and, for ``e^{x_i - m}``, the ambiguous ``e^x_i - m``)
become Unicode sub- and superscripts where every character has one, else ``x_(i,j)``; a fraction
parenthesises a compound numerator or denominator; ``\\tfrac``, ``\\arg``, ``\\|`` and a few other
macros it does not know are added. Nothing here rewrites LaTeX source with regexes: the work is
done on the parsed tree, and the only regexes touch the text that comes out (spaces).

What the caller may rely on: the result is plain text (no markup of any kind), and a formula that
does not parse is returned as its source rather than raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from pylatexenc import latex2text, latexwalker, macrospec

# The dollar-math syntax of the question files, shared by the sheet (quizgen.export.markup) and the
# terminal (quizgen.prose). allow_digits=False keeps prices such as "costs 5$ or 6$" as text.
DOLLARMATH_OPTIONS = {"allow_labels": False, "allow_space": True, "allow_digits": False, "double_inline": True}
MATH_TOKENS = {"math_inline", "math_inline_double"}
MATH_BLOCK_TOKENS = {"math_block", "math_block_label"}

SUPERSCRIPT = dict(zip(
    "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθιφχ⊤*′'",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᶥᵠᵡᵀ*′'"))
SUBSCRIPT = dict(zip("0123456789+-−=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))

_QUAD = "\u2001"  # stands for an explicit \quad while spaces are normalised, then becomes two spaces
_NEWLINE = "\u2028"  # stands for \\ (a line break in display maths)
_OPERATOR_CHARS = set("+-−*/=<>≤≥≈≠∼×·,;:|‖∈→⇒⟺ ")
_LARGE_OPERATORS = {"∑", "∏", "∫", "∮", "⋃", "⋂"}


def script(text: str, superscript: bool) -> str:
    """``text`` as a Unicode super- or subscript when every character has one; else ``^text`` / ``_(text)``."""
    table = SUPERSCRIPT if superscript else SUBSCRIPT
    text = text.strip()
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    mark = "^" if superscript else "_"
    if len(text) == 1 or re.fullmatch(r"\w+", text):
        return mark + text
    return f"{mark}({text})"


def _atomic(text: str) -> bool:
    """Whether ``text`` reads as one factor (``x``, ``12Ψ``, ``p(x)``, ``N_d``): no operator outside brackets."""
    depth = 0
    for c in text.strip():
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and c in _OPERATOR_CHARS:
            return False
    return bool(text.strip())


def _grouped(text: str) -> str:
    text = text.strip()
    return text if _atomic(text) else f"({text})"


@dataclass
class _Piece:
    text: str
    node: object = None  # the pylatexenc node it came from (None for part of a chars node)


def _is_word(text: str) -> bool:
    return len(text) > 1 and text.isalpha()


def _arg(node, l2t, k: int) -> str:
    return l2t.node_arg_to_text(node, k).strip()


def _fraction(node, l2tobj) -> str:
    return f"{_grouped(_arg(node, l2tobj, 0))}/{_grouped(_arg(node, l2tobj, 1))}"


def _square_root(node, l2tobj) -> str:
    index, body = _arg(node, l2tobj, 0), _arg(node, l2tobj, 1)
    root = {"": "√", "3": "∛", "4": "∜"}.get(index) or script(index, True) + "√"
    return root + (body if _atomic(body) and len(body) <= 3 else f"({body})")


def _double_struck(node, l2tobj) -> str:
    body = _arg(node, l2tobj, 0)
    return "𝟙" if body == "1" else latex2text.fmt_math_text_style(body, "doublestruck")  # 𝟙: the indicator


def _stacked(node, l2tobj) -> str:  # \overset{a}{=}: the symbol, then what stands above it as a superscript
    return _arg(node, l2tobj, 1) + script(_arg(node, l2tobj, 0), True)


def _understacked(node, l2tobj) -> str:
    return _arg(node, l2tobj, 1) + script(_arg(node, l2tobj, 0), False)


@cache
def _walker_context():
    """pylatexenc's parser, told the argument counts of macros it does not know."""
    context = latexwalker.get_default_latex_context_db()
    context.add_context_category("quizgen", prepend=True, macros=[
        macrospec.std_macro("tfrac", False, 2), macrospec.std_macro("dfrac", False, 2),
        macrospec.std_macro("binom", False, 2), macrospec.std_macro("overset", False, 2),
        macrospec.std_macro("underset", False, 2), macrospec.std_macro("boldsymbol", False, 1),
        macrospec.MacroSpec("operatorname", "*{"),
    ])
    return context


@cache
def _text_context():
    """pylatexenc's text rules, with ours first: fractions, roots, spacing, macros it does not know."""
    spec = latex2text.MacroTextSpec
    context = latex2text.get_default_latex_context_db()
    context.add_context_category("quizgen", prepend=True, macros=[
        spec("frac", _fraction), spec("tfrac", _fraction), spec("dfrac", _fraction),
        spec("sqrt", _square_root), spec("mathbb", _double_struck),
        spec("binom", lambda node, l2tobj: f"C({_arg(node, l2tobj, 0)}, {_arg(node, l2tobj, 1)})"),
        spec("overset", _stacked), spec("underset", _understacked),
        spec("boldsymbol", lambda node, l2tobj: latex2text.fmt_math_text_style(_arg(node, l2tobj, 0), "bold")),
        spec("operatorname", "%(2)s"), spec("left", ""), spec("right", ""), spec("ne", "≠"),
        spec("arg", "arg"), spec("|", "‖"), spec("Vert", "‖"), spec("bmod", " mod "), spec("mod", " mod "),
        spec("ll", "≪"), spec("gg", "≫"), spec("propto", "∝"), spec("Longleftrightarrow", "⟺"),
        spec("longrightarrow", "⟶"), spec("iff", "⟺"), spec("implies", "⟹"),
        spec("quad", _QUAD), spec("qquad", _QUAD * 2), spec("\\", _NEWLINE),
        spec(",", " "), spec(":", " "), spec(";", " "), spec(" ", " "), spec("!", ""),
        *(spec(name, "") for name in ("big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
                                      "biggr", "displaystyle", "textstyle", "limits", "nolimits")),
    ])
    return context


class _UnicodeMath(latex2text.LatexNodes2Text):
    """LatexNodes2Text with sub- and superscripts and math spacing, worked out on the node tree."""

    def macro_node_to_text(self, node):
        if self.latex_context.get_macro_spec(node.macroname) is None:
            return node.macroname  # an unknown macro keeps its name rather than vanishing
        return super().macro_node_to_text(node)

    def nodelist_to_text(self, nodelist):
        # A chars node such as "f_i P_i" holds the script marks; split it so that each mark is a piece
        # of its own, followed by its argument (the next character, or the next node: {...}, \top).
        queue: list = []
        for node in nodelist:
            if node is not None and node.isNodeType(latexwalker.LatexCharsNode):
                queue += [_Piece(part) for part in re.split(r"([_^])", node.chars) if part]
            elif node is not None:
                queue.append(node)
        pieces: list[_Piece] = []
        while queue:
            item = queue.pop(0)
            if isinstance(item, _Piece) and item.text in ("_", "^") and queue:
                self._attach_script(pieces, self._script_argument(queue), superscript=item.text == "^")
            elif isinstance(item, _Piece):
                pieces.append(item)
            else:
                pieces.append(_Piece(self.node_to_text(item), item))
        return self._join(pieces)

    def _script_argument(self, queue: list) -> str:
        argument = queue.pop(0)
        if isinstance(argument, _Piece) and not argument.text.strip() and queue:
            argument = queue.pop(0)  # x_ {i}: spaces, then the argument
        if not isinstance(argument, _Piece):
            return self.node_to_text(argument)
        text = argument.text.lstrip()
        if len(text) > 1:
            queue.insert(0, _Piece(text[1:]))
        return text[:1]

    @staticmethod
    def _attach_script(pieces: list[_Piece], value: str, superscript: bool) -> None:
        if not pieces:
            pieces.append(_Piece(script(value, superscript)))
        elif getattr(pieces[-1].node, "macroname", None) in ("underbrace", "overbrace"):
            pieces[-1].text = f"{pieces[-1].text} [{value.strip()}]"  # the brace's label
        else:
            pieces[-1].text += script(value, superscript)

    def _join(self, pieces: list[_Piece]) -> str:
        out = ""
        previous: _Piece | None = None
        for piece in pieces:
            text = piece.text
            if previous is not None and text and out:
                if self._is_bare_macro_node(previous.node):
                    out += previous.node.macro_post_space  # the source's spacing: "\alpha = 1"
                left = out[-1]
                if _is_word(text) and piece.node is not None and not left.isspace() and left not in "([{":
                    out += " "  # \arg\max, q(x)\min: a named operator is a word of its own
                elif _is_word(previous.text) and previous.node is not None and text[0].isalnum():
                    out += " "
                elif text[0] in _LARGE_OPERATORS and not left.isspace() and left not in "([{":
                    out += " "  # \frac{1}{T}\sum_x
            out += text
            previous = piece
        return out


@cache
def _converter() -> _UnicodeMath:
    return _UnicodeMath(latex_context=_text_context(), math_mode="text", strict_latex_spaces="based-on-source")


def _normalise_spaces(text: str) -> str:
    lines = []
    for line in text.split(_NEWLINE):
        line = re.sub(r"[ \t\r\n]+", " ", line)
        line = re.sub(rf" *({_QUAD}+) *", lambda m: "  " * len(m.group(1)), line)
        lines.append(line.strip())
    return "\n".join(line for line in lines if line)


@lru_cache(maxsize=4096)
def latex_to_unicode(latex: str) -> str:
    r"""One formula (the inside of ``$...$`` or ``$$...$$``) as plain Unicode text.

    ``\mathcal{L}_{aux} = \alpha \sum_{i=1}^{N} f_i`` -> ``ℒₐᵤₓ = α ∑ᵢ₌₁ᴺ fᵢ``.
    """
    try:
        walker = latexwalker.LatexWalker(f"${latex}$", latex_context=_walker_context(), tolerant_parsing=False)
        nodes, _, _ = walker.get_latex_nodes()
        return _normalise_spaces(_converter().nodelist_to_text(nodes))
    except Exception:  # noqa: BLE001 - pylatexenc raises several kinds of errors on malformed input; never fail a view
        return latex.strip()
