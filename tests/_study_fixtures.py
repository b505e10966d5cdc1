"""What the study tests share.

``toy_bank``: a small question bank with every kind of concept item and some hard formulas, for tests
that must not depend on the real questions' wording; it is written to a temporary folder and quizgen
is pointed at it, so the CLI sees only these two questions. ``insert_attempt``: a graded attempt as
the grading side records it, without building its report models.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TOY_901 = r"""
id: 901
slug: toy-routing
title: How does a toy router pick experts?
topics: [toy, routing]
difficulty: easy
answer: |
  The loss is $\mathcal{L}_{aux} = \alpha N \sum_{i=1}^{N} f_i P_i$ with $\alpha = 10^{-2}$, and
  attention scales by $\frac{QK^\top}{\sqrt{d}}$.

  $$f_i = \frac{1}{T}\sum_{x} \mathbb{1}\{\arg\max p(x) = i\}$$
pitfalls:
  - claim: 'The factor is $\tfrac{1}{2}$.'
    correction: 'It is $\operatorname{softmax}(x)_i$, not $\tfrac12$.'
concepts:
  - id: pick-one
    kind: choice
    prompt: 'Which factor scales the scores, $\frac{QK^\top}{\sqrt{d}}$ or another?'
    options:
      - {text: '$1/\sqrt{d}$', correct: true}
      - {text: "$1/d$"}
      - {text: '$\sqrt{d}$'}
      - {text: "$d^{2}$"}
    explanation: 'Dividing by $\sqrt{d}$ keeps the variance at 1.'
  - id: pick-many
    kind: multi
    prompt: 'Which are true of $\mathcal{L}_{aux}$?'
    options:
      - {text: "It is minimal under uniform routing", correct: true}
      - {text: "It uses $f_i$, a count", correct: true}
      - {text: "It needs labels"}
    explanation: "The fractions $f_i$ carry no gradient; $P_i$ does."
  - id: memory
    kind: numeric
    prompt: "How many GB do 7e9 float16 weights take?"
    answer: 14
    unit: GB
    explanation: '$7 \times 10^{9} \cdot 2$ bytes $\approx 14$ GB.'
  - id: count
    kind: numeric
    prompt: "How many blocks of 64 cover 1000 tokens?"
    answer: 16
    exact: true
    unit: blocks
    explanation: '$\lceil 1000 / 64 \rceil = 16$.'
  - id: recall
    kind: flashcard
    prompt: "What does the auxiliary loss balance?"
    answer: 'The load over experts: $\sum_i f_i P_i$ is smallest when routing is uniform.'
    explanation: "Without it, routing collapses."
  - id: design-router
    kind: design
    prompt: "Design a router for 64 experts that does not collapse."
    answer: 'Top-2 routing with an auxiliary loss $\alpha N \sum_i f_i P_i$ and capacity limits.'
    rubric:
      - "Top-k gating"
      - "An auxiliary balancing loss"
      - "Expert capacity and dropped tokens"
      - "A router z-loss for stability"
    explanation: "These are the parts of Switch and ST-MoE."
  - id: find-bug
    kind: spot-the-bug
    prompt: "Which line is wrong?"
    code: |
      def gate(logits, k):
          probs = logits.softmax(dim=0)
          top = probs.topk(k, dim=-1)
          return top
    bug_line: 2
    explanation: "The softmax must run over the experts (`dim=-1`), not over the tokens."
coding:
  stub_file: toy.py
  functions: [gate]
  stub: |
    # quizgen: question 901
    def gate(logits, k):
        raise NotImplementedError
  hints:
    - "Use `softmax` over the last dimension."
    - "Then `topk` with $k$ experts."
    - 'Renormalise: $g_i = p_i / \sum_j p_j$.'
"""

TOY_902 = r"""
id: 902
slug: toy-serving
title: What limits a toy server?
topics: [toy, serving]
difficulty: medium
answer: 'Memory: $2 \cdot n_{\text{layers}} \cdot n_{\text{kv\_heads}}$ per token.'
concepts:
  - id: serve-choice
    kind: choice
    prompt: "What grows with the batch?"
    options:
      - {text: "The KV cache", correct: true}
      - {text: "The weights"}
      - {text: "The vocabulary"}
    explanation: "Each sequence keeps its own keys and values."
"""


def write_toy_bank(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "901-toy-routing.yaml").write_text(TOY_901, encoding="utf-8")
    (folder / "902-toy-serving.yaml").write_text(TOY_902, encoding="utf-8")
    return folder


@pytest.fixture
def toy_bank(tmp_path, monkeypatch):
    """The toy bank, as the bank every command sees."""
    from quizgen.bank import index, loader

    folder = write_toy_bank(tmp_path / "questions")
    monkeypatch.setattr(loader, "questions_dir", lambda: folder)
    monkeypatch.setattr(index, "questions_dir", lambda: folder)
    return loader.load_bank(folder)


def insert_attempt(store, question_id: int, score: float = 100.0, max_score: float = 100.0, tests: str = "[]",
                   created_at: str = "2026-01-02T03:04:00+00:00") -> int:
    """One row of the attempts table (the columns ``Store.record_attempt`` writes)."""
    row = {"question_id": question_id, "file": "task.py", "file_sha256": "", "score": score, "max_score": max_score,
           "all_passed": score == max_score, "tests": tests, "device": "cpu", "isolation": "strong", "seed": 1,
           "duration_s": 1.0, "created_at": created_at}
    with store.db.atomic():
        return store.db["attempts"].insert(row).last_pk
