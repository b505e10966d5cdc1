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


@cache
def _converter():
    from pylatexenc import latex2text, latexwalker, macrospec

    walker_context = latexwalker.get_default_latex_context_db()
    walker_context.add_context_category("quizgen", prepend=True, macros=[
        macrospec.std_macro("tfrac", False, 2), macrospec.std_macro("dfrac", False, 2),
        macrospec.std_macro("binom", False, 2), macrospec.std_macro("overset", False, 2),
        macrospec.std_macro("underset", False, 2), macrospec.std_macro("boldsymbol", False, 1),
        macrospec.MacroSpec("operatorname", "*{"),
    ])

    def arg(node, l2t, k: int) -> str:
        return l2t.node_arg_to_text(node, k).strip()

    def fraction(node, l2tobj):
        return f"{_grouped(arg(node, l2tobj, 0))}/{_grouped(arg(node, l2tobj, 1))}"

    def square_root(node, l2tobj):
        index, body = arg(node, l2tobj, 0), arg(node, l2tobj, 1)
        root = {"": "√", "3": "∛", "4": "∜"}.get(index) or script(index, True) + "√"
        return root + (body if _atomic(body) and len(body) <= 3 else f"({body})")

    def double_struck(node, l2tobj):
        body = arg(node, l2tobj, 0)
        if body == "1":
            return "𝟙"  # the indicator function
        return latex2text.fmt_math_text_style(body, "doublestruck")

    def stacked(node, l2tobj):  # \overset{a}{=}: the symbol, then what stands above it as a superscript
        return arg(node, l2tobj, 1) + script(arg(node, l2tobj, 0), True)

    def understacked(node, l2tobj):
        return arg(node, l2tobj, 1) + script(arg(node, l2tobj, 0), False)

    text_context = latex2text.get_default_latex_context_db()
    spec = latex2text.MacroTextSpec
    text_context.add_context_category("quizgen", prepend=True, macros=[
        spec("frac", fraction), spec("tfrac", fraction), spec("dfrac", fraction),
        spec("sqrt", square_root), spec("mathbb", double_struck),
        spec("binom", lambda node, l2tobj: f"C({arg(node, l2tobj, 0)}, {arg(node, l2tobj, 1)})"),
        spec("overset", stacked), spec("underset", understacked),
        spec("boldsymbol", lambda node, l2tobj: latex2text.fmt_math_text_style(arg(node, l2tobj, 0), "bold")),
        spec("operatorname", "%(2)s"), spec("left", ""), spec("right", ""), spec("ne", "≠"),
        spec("arg", "arg"), spec("|", "‖"), spec("Vert", "‖"), spec("bmod", " mod "), spec("mod", " mod "),
        spec("ll", "≪"), spec("gg", "≫"), spec("propto", "∝"), spec("Longleftrightarrow", "⟺"),
        spec("longrightarrow", "⟶"), spec("iff", "⟺"), spec("implies", "⟹"),
        spec("quad", _QUAD), spec("qquad", _QUAD * 2), spec("\\", _NEWLINE),
        spec(",", " "), spec(":", " "), spec(";", " "), spec(" ", " "), spec("!", ""),
        *(spec(name, "") for name in ("big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
                                      "biggr", "displaystyle", "textstyle", "limits", "nolimits")),
    ])
    return latexwalker.LatexWalker, _to_text_class(latex2text.LatexNodes2Text, latexwalker)(
        latex_context=text_context, math_mode="text", strict_latex_spaces="based-on-source"), walker_context


def _to_text_class(base, latexwalker):
    class UnicodeMath(base):
        """LatexNodes2Text with sub- and superscripts and math spacing, on the node tree."""

        def macro_node_to_text(self, node):
            if self.latex_context.get_macro_spec(node.macroname) is None:
                return node.macroname  # an unknown macro keeps its name rather than vanishing
            return super().macro_node_to_text(node)

        def nodelist_to_text(self, nodelist):
            pieces: list[_Piece] = []
            queue = []
            for node in nodelist:
                if node is not None and node.isNodeType(latexwalker.LatexCharsNode):
                    queue += [_Piece(part) for part in re.split(r"([_^])", node.chars) if part]
                else:
                    queue.append(node)
            while queue:
                item = queue.pop(0)
                if isinstance(item, _Piece) and item.text in ("_", "^") and item.node is None and queue:
                    argument = queue.pop(0)
                    if isinstance(argument, _Piece):
                        stripped = argument.text.lstrip()
                        if not stripped and queue:  # x_ {i}: the argument is the next node
                            argument = queue.pop(0)
                        if isinstance(argument, _Piece):
                            stripped = argument.text.lstrip()
                            if len(stripped) > 1:
                                queue.insert(0, _Piece(stripped[1:]))
                            value = stripped[:1]
                        else:
                            value = self.node_to_text(argument)
                    else:
                        value = self.node_to_text(argument)
                    self._attach_script(pieces, value, superscript=item.text == "^")
                elif isinstance(item, _Piece):
                    pieces.append(item)
                elif item is not None:
                    pieces.append(_Piece(self.node_to_text(item), item))
            return self._join(pieces)

        @staticmethod
        def _attach_script(pieces: list[_Piece], value: str, superscript: bool) -> None:
            base = pieces[-1] if pieces else None
            if base is None:
                pieces.append(_Piece(script(value, superscript)))
                return
            macro = getattr(base.node, "macroname", None)
            if macro in ("underbrace", "overbrace"):  # the label under or over the brace
                base.text = f"{base.text} [{value.strip()}]"
            else:
                base.text += script(value, superscript)

        def _join(self, pieces: list[_Piece]) -> str:
            out = ""
            previous: _Piece | None = None
            for piece in pieces:
                text = piece.text
                if previous is not None and text and out:
                    bare_macro = self._is_bare_macro_node(previous.node)
                    if bare_macro:
                        out += previous.node.macro_post_space
                    left, right = out[-1], text[0]
                    if _is_word(text) and piece.node is not None and not left.isspace() and left not in "([{":
                        out += " "  # \arg\max, q(x)\min: a named operator is a word of its own
                    elif _is_word(previous.text) and previous.node is not None and right.isalnum():
                        out += " "
                    elif text[0] in _LARGE_OPERATORS and not out[-1].isspace() and out[-1] not in "([{":
                        out += " "  # \frac{1}{T}\sum_x
                out += text
                previous = piece
            return out

    return UnicodeMath


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
    walker_class, converter, walker_context = _converter()
    try:
        walker = walker_class(f"${latex}$", latex_context=walker_context, tolerant_parsing=False)
        nodes, _, _ = walker.get_latex_nodes()
        return _normalise_spaces(converter.nodelist_to_text(nodes))
    except Exception:  # pylatexenc raises several kinds of errors on malformed input; never fail a view
        return latex.strip()
