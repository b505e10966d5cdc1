"""`quiz export --html`: one self-contained, escaped, printable study sheet (issue 6)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _chromium import Browser, find_chromium
from _study_fixtures import insert_attempt, write_toy_bank

from quizgen.bank.loader import load_bank
from quizgen.bank.models import Question
from quizgen.cli import cli
from quizgen.export import load_progress, render_sheet
from quizgen.export.cache import FragmentCache
from quizgen.export.markup import markdown_block, markdown_inline
from quizgen.quiz.scoring import format_number
from quizgen.store import open_store

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "<script>alert(1)</script>"
FIXED_TIME = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


def make_question(**fields) -> Question:
    data = {
        "id": 999, "slug": "made-up", "title": "A made-up question", "topics": ["testing"], "difficulty": "easy",
        "answer": "Plain answer.",
    }
    data.update(fields)
    return Question.model_validate(data)


class Resources(HTMLParser):
    """Collects every tag, and the URLs of those that would make the browser fetch something."""

    FETCHING = {"link": "href", "script": "src", "img": "src", "style": "src", "iframe": "src", "source": "src",
                "video": "src", "audio": "src", "embed": "src", "object": "data", "image": "href", "use": "href",
                "input": "src", "track": "src", "frame": "src"}

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.fetched: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag in self.FETCHING and attrs.get(self.FETCHING[tag]):
            self.fetched.append(f"<{tag}> {attrs[self.FETCHING[tag]]}")
        if "srcset" in attrs or "background" in attrs or "poster" in attrs:
            self.fetched.append(f"<{tag}> {attrs}")
        if tag == "a":
            self.links.append(attrs.get("href") or "")


@pytest.fixture(scope="module")
def whole_bank_page() -> str:
    from quizgen.bank import load_bank

    return render_sheet(load_bank().questions, with_solutions=True, generated=FIXED_TIME, cache_dir=None)


# -- the CLI ---------------------------------------------------------------------------------------

def test_export_writes_the_whole_bank_with_contents_and_every_question(runner, bank, tmp_path):
    out = tmp_path / "sheet.html"
    result = runner.invoke(cli, ["export", "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {out}: {len(bank.questions)} questions."
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    toc = page[page.index('<nav class="toc"'):page.index("</nav>")]
    text = text_of(page)
    for q in bank.questions:
        assert f'href="#q{q.id}"' in toc, f"question {q.id} missing from the contents"
        assert f'<article class="question" id="q{q.id}">' in page
        assert text_of(q.title) in text
        for topic in q.topics:
            assert f'id="topic-{topic}"' in toc
    assert page.count('<article class="question"') == len(bank.questions)
    assert "<math" in page


def test_export_filters_by_topic_and_question(runner, tmp_path):
    out = tmp_path / "moe.html"
    result = runner.invoke(cli, ["export", "--html", str(out), "--topic", "quantization"])
    assert result.exit_code == 0, result.output
    assert "3 questions" in result.output
    page = out.read_text(encoding="utf-8")
    assert re.findall(r'<article class="question" id="q(\d+)"', page) == ["55", "59", "60"]

    result = runner.invoke(cli, ["export", "--html", str(out), "--question", "52", "--question", "64"])
    assert result.exit_code == 0, result.output
    assert re.findall(r'<article class="question" id="q(\d+)"', out.read_text()) == ["52", "64"]

    result = runner.invoke(cli, ["export", "--html", str(out), "--topic", "moe", "--question", "52"])
    assert result.output.strip() == f"Wrote {out}: 1 question."


@pytest.mark.parametrize("args, message", [
    (["--topic", "nope"], "no question has topic 'nope'; see `quiz topics`"),
    (["--question", "99"], "no question 99"),
    (["--topic", "moe", "--question", "53"], "question 53 does not have topic 'moe'"),
])
def test_export_with_an_unusable_selection_is_a_usage_error(runner, tmp_path, args, message):
    out = tmp_path / "sheet.html"
    result = runner.invoke(cli, ["export", "--html", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_export_requires_html(runner):
    result = runner.invoke(cli, ["export"])
    assert result.exit_code == 2 and "--html" in result.output


def test_export_into_a_folder_that_is_a_file_is_an_error(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(cli, ["export", "--html", str(blocker / "sheet.html"), "--question", "52"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot write")


def test_export_does_not_import_torch(tmp_path):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from quizgen.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['export', '--html', {str(tmp_path / 's.html')!r}, '--with-progress', "
        "'--with-solutions', '--question', '52'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('torch' in sys.modules)\n"
    )
    env = {**os.environ, "QUIZGEN_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# -- content ---------------------------------------------------------------------------------------

def test_sheet_renders_formulas_as_mathml_inline_and_display():
    q = make_question(answer="Inline $a^2 + b^2$ and display:\n\n$$\\sum_{i=1}^{N} f_i P_i$$\n\nCosts 5$ or 6$.")
    page = render_sheet([q], cache_dir=None)
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in page
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in page
    assert "$" not in text_of(page).replace("Costs 5$ or 6$", "")


def test_every_formula_in_the_bank_becomes_mathml(whole_bank_page):
    assert 'class="math-error"' not in whole_bank_page
    body = whole_bank_page[whole_bank_page.index("<main>"):]
    prose = re.sub(r"<math.*?</math>", "", body, flags=re.S)
    prose = re.sub(r'<div class="highlight">.*?</div>', "", prose, flags=re.S)
    assert "$" not in text_of(prose), "a $...$ formula was left as text"
    assert whole_bank_page.count("<math") > 300


def test_concept_items_show_their_answers_and_explanations(bank):
    q52 = bank.get(52)
    page = render_sheet([q52], cache_dir=None)
    text = text_of(page)
    for item in q52.concepts:
        assert f'id="q52-{item.id}"' in page
    # choice and multi: every option, the correct ones marked
    correct = re.findall(r'<li class="option correct">.*?</li>', page, flags=re.S)
    assert len(correct) == sum(o.correct for item in q52.concepts if item.kind in ("choice", "multi")
                               for o in item.options)
    right_options = text_of("".join(correct))
    for item in q52.concepts:
        if item.kind in ("choice", "multi"):
            for option in item.options:
                assert (text_of(str(markdown_inline(option.text))) in right_options) >= option.correct
        elif item.kind == "numeric":  # answer, unit, tolerance, and the form the answer is expected in
            unit = f"\u202f{item.unit}" if item.unit else ""
            tolerance = "exact" if item.exact else f"± {format_number(item.rel_tolerance * 100)}%"
            assert f"{format_number(item.answer)}{unit} {tolerance}" in text
            assert f"Answer as {item.expected_form}" in text
        elif item.kind == "flashcard":
            assert text_of(str(markdown_block(item.answer))).strip() in text
        assert text_of(str(markdown_block(item.explanation))).strip() in text
    assert "1e-06" not in text
    assert "Multiple choice" in text and "Flashcard" in text


def test_choice_options_are_shuffled_at_export_time(bank):
    items = [(q, i) for q in bank.questions for i in q.concepts if i.kind in ("choice", "multi")]
    page = render_sheet(bank.questions, generated=FIXED_TIME, cache_dir=None)
    first_is_right = 0
    for q, item in items:
        card = page[page.index(f'id="q{q.id}-{item.id}"'):]
        card = card[:card.index("</ul>")]
        first = re.search(r'<li class="option( correct)?">', card)
        first_is_right += first.group(1) is not None
        assert card.count('<li class="option') == len(item.options)
    assert first_is_right < len(items) / 2, f"the right option is first in {first_is_right} of {len(items)} items"
    later = render_sheet(bank.questions, generated=FIXED_TIME.replace(year=2026), cache_dir=None)
    assert later != page  # another export, another order
    assert render_sheet(bank.questions, generated=FIXED_TIME, cache_dir=None) == page  # same inputs, same page


def test_every_item_kind_has_its_card(tmp_path):
    toy = load_bank(write_toy_bank(tmp_path / "questions"))
    page = render_sheet(toy.questions, generated=FIXED_TIME, cache_dir=None)
    text = text_of(page)
    assert "Answer as a number in GB; within 0.5% counts (3 significant figures are enough)" in text
    assert "Answer as an exact whole number in blocks" in text and "16\u202fblocks exact" in text
    assert "Design Design a router for 64 experts that does not collapse." in text
    assert "Rubric: points a strong answer covers ☐ Top-k gating ☐ An auxiliary balancing loss" in text
    bug = page[page.index('id="q901-find-bug"'):]
    bug = bug[:bug.index("</ol>")]
    assert '<span class="linenos">2</span>' in bug and '<span class="hll">' in bug
    assert text_of(bug).count("probs") == 2 and "Answer line 2" in text_of(bug)


def test_no_stray_backslash_outside_code(bank, tmp_path):
    toy = load_bank(write_toy_bank(tmp_path / "questions"))
    page = render_sheet(bank.questions + toy.questions, with_solutions=True, generated=FIXED_TIME, cache_dir=None)
    body = page[page.index("<main>"):]
    outside_code = re.sub(r"<pre.*?</pre>|<code.*?</code>", "", body, flags=re.S)
    strays = [text_of(m.group(0)) for m in re.finditer(r".{0,60}\\.{0,20}", text_of(outside_code))]
    assert strays == []
    assert "kv_heads" in text_of(page) and "arg" in text_of(page)


def test_pitfalls_references_and_stub_are_shown(bank):
    q52 = bank.get(52)
    page = render_sheet([q52], cache_dir=None)
    text = text_of(page)
    for pitfall in q52.pitfalls:
        assert text_of(pitfall.claim) in text
    for ref in q52.references:
        assert ref.title in text and ref.authors in text and f"({ref.year})" in text
        assert f'href="{ref.url}"' in page
    assert '<div class="highlight"><pre>' in page and '<span class="k">def</span>' in page
    assert "def route_top_k(router_logits: Tensor, k: int, renormalize: bool)" in text


def test_code_styles_for_light_and_dark_are_embedded(whole_bank_page):
    assert ".highlight .k {" in whole_bank_page
    assert "@media screen and (prefers-color-scheme: dark)" in whole_bank_page
    assert "@media print" in whole_bank_page
    print_css = whole_bank_page[whole_bank_page.index("@media print"):]
    assert "break-before: page" in print_css and "white-space: pre-wrap" in print_css


def test_with_solutions_includes_the_reference_kernels(runner, tmp_path):
    out = tmp_path / "sheet.html"
    result = runner.invoke(cli, ["export", "--html", str(out), "--question", "52", "--with-solutions"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    text = text_of(page)
    assert "solutions/52_moe/reference.py (reference solution)" in text
    assert "def _check_k(k: int, num_experts: int) -> None:" in text  # only in the reference, not the stub
    without = runner.invoke(cli, ["export", "--html", str(out), "--question", "52"])
    assert without.exit_code == 0 and "_check_k" not in text_of(out.read_text())


def test_missing_reference_solution_is_reported_not_fatal():
    q = make_question(slug="no-such-task", coding={"stub_file": "task.py", "functions": ["f"],
                                                   "stub": "def f(x):\n    raise NotImplementedError\n"})
    page = render_sheet([q], with_solutions=True, cache_dir=None)
    assert "No reference solution yet: solutions/999_no_such_task/reference.py does not exist." in text_of(page)


# -- safety ----------------------------------------------------------------------------------------

def test_question_text_is_escaped_not_run():
    q = make_question(
        title=f"Title {SCRIPT}",
        answer=f"Answer {SCRIPT}\n\n<img src=x onerror=alert(2)>\n\n![pic](https://example.com/pic.png)\n\n"
               "$\\text{<img src=y onerror=alert(3)>}$ and [bad](javascript:alert(4))",
        pitfalls=[{"claim": f"claim {SCRIPT}", "correction": f"fix {SCRIPT}"}],
        references=[{"title": f"T {SCRIPT}", "authors": f"A {SCRIPT}", "year": 2020, "url": "https://example.com/"}],
        concepts=[{"id": "c1", "kind": "choice", "prompt": f"p {SCRIPT}", "explanation": f"e {SCRIPT}",
                   "options": [{"text": f"o {SCRIPT}", "correct": True}, {"text": "other"}]},
                  {"id": "c2", "kind": "flashcard", "prompt": "p", "answer": f"a {SCRIPT}", "explanation": "e"}],
        coding={"stub_file": "task.py", "functions": ["f"], "hints": [f"h {SCRIPT}"],
                "stub": f"def f(x):\n    return '{SCRIPT}'\n"},
    )
    page = render_sheet([q], with_solutions=True, cache_dir=None)
    parsed = Resources()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "onerror" not in page.replace("onerror=alert", "")  # only ever as escaped text
    assert not any(link.startswith("javascript:") for link in parsed.links)
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 10
    assert text_of(page).count(SCRIPT) >= 10  # shown to the reader, as text


def test_sheet_loads_nothing_from_the_network(whole_bank_page):
    parsed = Resources()
    parsed.feed(whole_bank_page)
    assert parsed.fetched == []
    assert "script" not in parsed.tags
    assert "@import" not in whole_bank_page and not re.search(r"url\(\s*['\"]?(https?:)?//", whole_bank_page)
    assert "default-src 'none'" in whole_bank_page  # Content-Security-Policy: nothing may load
    assert any(link.startswith("https://arxiv.org/") for link in parsed.links)  # references stay links


# -- progress --------------------------------------------------------------------------------------

def record_progress():
    store = open_store()
    insert_attempt(store, 52, score=2, max_score=7, tests=json.dumps([
        {"name": "test_route_shapes", "weight": 2, "status": "passed"},
        {"name": "test_balancing_loss[k=2]", "weight": 3, "status": "failed",
         "message": "max abs error 0.031 at index (3, 1)"},
        {"name": "test_forward_large", "weight": 2, "status": "timeout", "message": "ran past 20 s"},
    ]))
    store.record_concept_answer(52, "switch-gate-value", "choice", "2", False, shown_order=(1, 0, 2, 3),
                                chosen=("the chosen wrong option",))
    store.record_concept_answer(52, "moe-total-vs-active", "choice", "c", False)
    store.record_concept_answer(52, "moe-total-vs-active", "choice", "a", True)
    store.record_concept_answer(52, "mixtral-active-percent", "numeric", "35", False)
    store.db["review_cards"].insert_all([
        {"question_id": 52, "item_id": "mixtral-not-56b", "card": "{}", "due": "2000-01-01T00:00:00+00:00"},
        {"question_id": 52, "item_id": "switch-gate-value", "card": "{}", "due": "2999-01-01T00:00:00+00:00"},
    ])
    return store


@pytest.fixture
def india_time(monkeypatch):
    """Local time is UTC+05:30 (no daylight saving time), so a shown time proves it was converted."""
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def test_with_progress_shows_failing_tests_and_wrong_answers(runner, tmp_path, india_time):
    record_progress()
    out = tmp_path / "sheet.html"
    result = runner.invoke(cli, ["export", "--html", str(out), "--topic", "moe", "--with-progress"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    progress = text_of(page[page.index('<aside class="progress"'):page.index("</aside>")])
    assert "best 2 / 7" in progress
    assert "test_balancing_loss[k=2] failed max abs error 0.031 at index (3, 1)" in progress
    assert "test_forward_large timeout ran past 20 s" in progress
    assert "test_route_shapes" not in progress
    assert "In a Switch (top-1) layer, what multiplies the chosen expert's output?" in progress
    assert "your answer: 35;" in progress
    assert "Compared with a dense Transformer" not in progress  # answered wrongly once, right since
    assert "1 card due now (mixtral-not-56b); next due 2999-01-01 05:30" in progress  # local time
    assert "✗ your last answer: the chosen wrong option" in text_of(page)  # the text chosen, not its number
    assert '<span class="toc-score" title="your best score">2/7</span>' in page


def test_with_progress_and_nothing_recorded_says_so(runner, tmp_path):
    out = tmp_path / "sheet.html"
    result = runner.invoke(cli, ["export", "--html", str(out), "--question", "52", "--with-progress"])
    assert result.exit_code == 0, result.output
    assert "Your progress: nothing recorded yet." in text_of(out.read_text())


def test_progress_takes_the_best_attempt_and_the_latest_answer():
    store = record_progress()
    insert_attempt(store, 52, score=0, max_score=7, tests=json.dumps([
        {"name": "test_route_shapes", "weight": 2, "status": "failed", "message": "worse"},
        {"name": "test_balancing_loss[k=2]", "weight": 3, "status": "failed", "message": "worse"},
    ]))
    p = load_progress(store, [52, 53])
    assert p[52].attempts == 2 and p[52].best.score == 2 and p[52].latest.score == 0
    assert [t.name for t in p[52].best.failing] == ["test_balancing_loss[k=2]", "test_forward_large"]
    assert sorted(r.item_id for r in p[52].wrong_items) == ["mixtral-active-percent", "switch-gate-value"]
    assert p[52].items["moe-total-vs-active"].times_wrong == 1
    assert [c.item_id for c in p[52].due_now] == ["mixtral-not-56b"]
    assert p[53].empty


# -- the fragment cache ----------------------------------------------------------------------------

def test_fragment_cache_serves_a_second_export_and_survives_a_broken_file(tmp_path):
    path = tmp_path / "cache.json"
    calls = []

    def render(source):
        calls.append(source)
        return f"<b>{source}</b>"

    first = FragmentCache(path)
    assert first.fetch("md", "x", render) == "<b>x</b>"
    first.save()
    assert FragmentCache(path).fetch("md", "x", render) == "<b>x</b>"
    assert calls == ["x"]
    path.write_text("{not json")
    assert FragmentCache(path).fetch("md", "x", render) == "<b>x</b>"
    assert calls == ["x", "x"]


def test_cached_and_fresh_renders_are_identical(bank, tmp_path):
    questions = bank.by_topic("moe")
    cache = tmp_path / "cache"
    fresh = render_sheet(questions, with_solutions=True, generated=FIXED_TIME, cache_dir=None)
    assert render_sheet(questions, with_solutions=True, generated=FIXED_TIME, cache_dir=cache) == fresh
    assert (cache / "fragments.json").exists() and list((cache / "templates").iterdir())
    assert render_sheet(questions, with_solutions=True, generated=FIXED_TIME, cache_dir=cache) == fresh


# -- in a real browser -----------------------------------------------------------------------------

def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    from _chromium import FLAGS

    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180)


def console_problems(stderr: str) -> list[str]:
    """Chromium's log lines (``--enable-logging=stderr``) for console messages, errors and blocked loads."""
    return [line for line in stderr.splitlines()
            if re.search(r"CONSOLE|Uncaught|Refused to|Failed to load|net::ERR_", line)]


needs_chromium = pytest.mark.skipif(find_chromium() is None,
                                    reason="no chromium binary on PATH (CI installs Debian's chromium)")


def artifacts_dir(tmp_path: Path) -> Path:
    artifacts = Path(os.environ.get("QUIZGEN_ARTIFACTS") or tmp_path / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    return artifacts


@needs_chromium
def test_sheet_renders_in_headless_chromium(runner, tmp_path):
    artifacts = artifacts_dir(tmp_path)
    record_progress()
    sheet = artifacts / "study-sheet.html"
    result = runner.invoke(cli, ["export", "--html", str(sheet), "--with-solutions", "--with-progress"])
    assert result.exit_code == 0, result.output
    url = sheet.resolve().as_uri()
    binary = find_chromium()

    # The check itself must be able to fail: a page with a blocked image and a script error is caught.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="https://example.com/x.png"><script>undefinedFunction()</script>')
    caught = run_chromium(binary, tmp_path / "profile-control", "--enable-logging=stderr", "--v=0", "--dump-dom",
                          control.as_uri())
    assert console_problems(caught.stderr), "chromium logged nothing for a broken page: the check below is blind"

    dom = run_chromium(binary, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_problems(dom.stderr) == [], "\n".join(console_problems(dom.stderr))
    assert "<math" in dom.stdout
    assert dom.stdout.count("<math") == sheet.read_text(encoding="utf-8").count("<math")
    assert "<script" not in dom.stdout


# What overflows the page's width, as text: elements or runs of text that reach past the viewport
# without a scrolling box (a code block, a display formula) around them.
OVERFLOWING = """(() => {
  const width = document.documentElement.clientWidth, found = [];
  const scrolls = el => { for (let p = el; p; p = p.parentElement)
    if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= width + 0.5) return true;
    return false; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    if (range.getBoundingClientRect().right > width + 0.5 && !scrolls(n.parentElement))
      found.push(n.parentElement.tagName.toLowerCase() + '.' + n.parentElement.className + ': '
                 + n.textContent.trim().slice(0, 60));
  }
  return found.slice(0, 10);
})()"""


@needs_chromium
def test_sheet_fits_a_phone_and_a_desktop(runner, tmp_path, toy_bank_folder):
    """At 390 px (a phone) the page never scrolls sideways: long formulas and code scroll in their own box."""
    artifacts = artifacts_dir(tmp_path)
    record_progress()
    sheet = artifacts / "study-sheet-phone.html"
    questions = load_bank().questions + load_bank(toy_bank_folder).questions
    sheet.write_text(render_sheet(questions, with_solutions=True, progress=load_progress(open_store(), [52]),
                                  generated=FIXED_TIME, cache_dir=None), encoding="utf-8")
    url = sheet.resolve().as_uri()
    with Browser(find_chromium(), tmp_path / "profile-phone") as browser:
        # the measurement can fail: a page with a long unbreakable line scrolls sideways
        wide = tmp_path / "wide.html"
        wide.write_text('<!DOCTYPE html><meta name="viewport" content="width=device-width"><p>' + "x" * 300 + "</p>")
        browser.open(wide.as_uri(), 390, mobile=True)
        assert browser.evaluate("document.documentElement.scrollWidth") > 390

        browser.open(url, 390, 844, mobile=True)
        width, scroll_width = browser.evaluate("[document.documentElement.clientWidth, "
                                               "document.documentElement.scrollWidth]")
        assert width == 390
        assert scroll_width == width, browser.evaluate(OVERFLOWING)
        assert browser.evaluate(OVERFLOWING) == []
        assert browser.evaluate("document.querySelectorAll('math').length") > 300
        browser.screenshot(artifacts / "study-sheet-390.png")

        browser.open(url, 1280, 900)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 1280
        browser.screenshot(artifacts / "study-sheet-1280.png")
        assert browser.console_problems() == []  # the CSP refused nothing: the page asks for nothing
    for name in ("study-sheet-390.png", "study-sheet-1280.png"):
        assert (artifacts / name).stat().st_size > 50_000  # a rendered page, not a blank one


@pytest.fixture
def toy_bank_folder(tmp_path) -> Path:
    return write_toy_bank(tmp_path / "toy-questions")
