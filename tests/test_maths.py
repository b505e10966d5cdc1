"""Formulas in the terminal: LaTeX as readable Unicode (pylatexenc plus scripts, fractions and spacing
on its node tree), and Markdown that never sees the LaTeX."""

import pytest

from quizgen.cli import cli
from quizgen.maths import latex_to_unicode, script
from quizgen.prose import inline, plain


@pytest.mark.parametrize("latex, text", [
    (r"\frac{a}{b}", "a/b"),
    (r"\frac{QK^\top}{\sqrt{d}}", "QKᵀ/√d"),
    (r"\mathcal{L}_{aux} = \alpha \, N \sum_{i=1}^{N} f_i \, P_i", "ℒₐᵤₓ = α N ∑ᵢ₌₁ᴺ fᵢ Pᵢ"),
    (r"\alpha = 10^{-2}", "α = 10⁻²"),
    (r"\tfrac{1}{2} + \dfrac{n}{k^2}", "1/2 + n/k²"),
    (r"\frac{x_{\max}' - x_{\min}'}{q_{\max} - q_{\min}}", "(xₘₐₓ' - xₘᵢₙ')/(qₘₐₓ - qₘᵢₙ)"),
    (r"f_i = \frac{1}{T}\sum_{x} \mathbb{1}\{\arg\max p(x) = i\}", "fᵢ = 1/T ∑ₓ 𝟙{arg max p(x) = i}"),
    (r"\operatorname{softmax}(x)_i", "softmax(x)ᵢ"),
    (r"\mathrm{KL}\!\left(p \,\|\, q\right)", "KL(p ‖ q)"),
    (r"e^{x_i - m}", "e^(xᵢ - m)"),
    (r"x_{i,j}", "x_(i,j)"),
    (r"n_{\text{kv\_heads}}", "n_kv_heads"),
    (r"k^{*} = \sqrt{n}, \qquad \mathrm{mem}(k^{*}) = 2\sqrt{n}", "k* = √n,    mem(k*) = 2√n"),
    (r"A \in \mathbb{R}^{r \times d_{in}}", "A ∈ ℝ^(r × dᵢₙ)"),
    (r"\lceil L / B \rceil \le n", "⌈ L / B ⌉ ≤ n"),
    (r"\hat{x} = (q - z)\,s", "x̂ = (q - z) s"),
    (r"\frac{ab", r"\frac{ab"),  # does not parse: the source, never an exception
])
def test_formulas_become_readable_unicode(latex, text):
    assert latex_to_unicode(latex) == text


def test_scripts_fall_back_to_marks_where_unicode_has_no_form():
    assert script("2", superscript=True) == "²"
    assert script("in", superscript=False) == "ᵢₙ"
    assert script("d", superscript=False) == "_d"  # there is no subscript d
    assert script("1/2", superscript=True) == "^(1/2)"


def test_markdown_keeps_formulas_whole():
    text = plain(r"Use $\mathcal{L}_{aux}$ and *this*, with $\{1, 2\}$ and `a_b` and 5$ for $x_i$.")
    assert text == "Use ℒₐᵤₓ and this, with {1, 2} and a_b and 5$ for xᵢ."


def test_display_formulas_stand_indented_on_their_own_lines():
    text = plain("Before\n\n$$\n\\sum_{i=1}^{N} f_i P_i\n$$\n\nAfter")
    assert text.splitlines() == ["Before", "", "    ∑ᵢ₌₁ᴺ fᵢ Pᵢ", "", "After"]


def test_inline_rendering_for_options():
    assert inline(r"$1/\sqrt{d}$ with **bold**").plain == "1/√d with bold"


def test_show_renders_formulas_and_does_not_mangle_them(runner, toy_bank):
    result = runner.invoke(cli, ["show", "901"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "    fᵢ = 1/T ∑ₓ 𝟙{arg max p(x) = i}\n" in out
    words = " ".join(out.split())  # as read, whatever the terminal's width
    assert "The loss is ℒₐᵤₓ = α N ∑ᵢ₌₁ᴺ fᵢ Pᵢ with α = 10⁻², and attention scales by QKᵀ/√d." in words
    assert "→ It is softmax(x)ᵢ, not 1/2." in words  # a pitfall's correction
    assert "\\" not in out and "$" not in out


def test_the_whole_bank_shows_without_raw_latex(runner, bank):
    for question in bank.questions:
        out = runner.invoke(cli, ["show", str(question.id)]).output
        for raw in ("\\frac", "\\mathcal", "\\sum", "\\text", "\\alpha", "$"):
            assert raw not in out, f"quiz show {question.id} prints {raw!r}"
