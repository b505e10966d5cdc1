"""The loader: every bundled file loads, and a malformed file is named with its line and field."""

from pathlib import Path

import pytest

from quizgen.bank.loader import load_bank, load_question
from quizgen.errors import BankError

MINIMAL = """\
id: 90
slug: demo
title: A demo question
topics: [demo]
difficulty: easy
"""


def write(tmp_path: Path, text: str, name: str = "90-demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_bank_has_the_fifteen_questions_in_order(bank):
    assert [q.id for q in bank.questions] == list(range(51, 66))
    assert all(q.coding is not None for q in bank.questions)


def test_minimal_question_loads(tmp_path):
    q = load_question(write(tmp_path, MINIMAL))
    assert (q.id, q.slug, q.topics) == (90, "demo", ["demo"])


def test_unknown_field_names_file_line_and_field(tmp_path):
    path = write(tmp_path, MINIMAL + "dificulty: hard\n")
    with pytest.raises(BankError) as exc:
        load_question(path)
    assert f"{path}:6: field 'dificulty': Extra inputs are not permitted" in str(exc.value)


def test_wrong_type_inside_a_concept_item_names_its_path(tmp_path):
    text = MINIMAL + """concepts:
  - id: item-one
    kind: numeric
    prompt: How many?
    explanation: Because.
    answer: lots
    tolerance: 0
"""
    path = write(tmp_path, text)
    with pytest.raises(BankError) as exc:
        load_question(path)
    assert f"{path}:11: field 'concepts[0].answer'" in str(exc.value)


def test_choice_item_needs_exactly_one_correct_option(tmp_path):
    text = MINIMAL + """concepts:
  - id: item-one
    kind: choice
    prompt: Which?
    explanation: Because.
    options:
      - {text: a, correct: true}
      - {text: b, correct: true}
"""
    with pytest.raises(BankError, match="exactly one option"):
        load_question(write(tmp_path, text))


def test_invalid_yaml_names_the_line(tmp_path):
    path = write(tmp_path, MINIMAL + "topics: [unclosed\n")
    with pytest.raises(BankError, match=rf"{path}:\d+: invalid YAML"):
        load_question(path)


def test_file_name_must_start_with_the_id(tmp_path):
    with pytest.raises(BankError, match="does not start with '90-'"):
        load_question(write(tmp_path, MINIMAL, name="91-demo.yaml"))


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "90-demo.yaml"
    path.write_bytes(MINIMAL.encode() + b"answer: caf\xe9\n")
    with pytest.raises(BankError, match="not UTF-8"):
        load_question(path)


def test_duplicate_ids_in_a_folder_are_refused(tmp_path):
    write(tmp_path, MINIMAL)
    write(tmp_path, MINIMAL.replace("slug: demo", "slug: other"), name="90-other.yaml")
    with pytest.raises(BankError, match="used by both"):
        load_bank(tmp_path)


def test_stub_must_define_the_listed_functions(tmp_path):
    text = MINIMAL + """coding:
  stub_file: demo.py
  functions: [f, g]
  stub: |
    def f(x):
        raise NotImplementedError
"""
    with pytest.raises(BankError, match="does not define g"):
        load_question(write(tmp_path, text))
