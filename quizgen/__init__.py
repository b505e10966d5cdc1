"""quizgen: a question bank and auto-grader for LLM-architecture interview questions 51-65.

``quizgen.grade(source, question=52)`` grades code from Python (see ``quizgen.api``);
``%load_ext quizgen`` adds the ``%quiz`` and ``%%quiz`` magics to IPython and Jupyter.
Nothing heavy is imported until it is used, so ``quiz list`` stays fast.
"""

__version__ = "0.1.0"


def grade(source: str, question: int, **options):
    """Grade ``source`` as question ``question``'s submission; see ``quizgen.api.grade``."""
    from quizgen.api import grade as _grade

    return _grade(source, question, **options)


def load_ipython_extension(ipython) -> None:
    """``%load_ext quizgen``."""
    from quizgen.notebook import load_ipython_extension as load

    load(ipython)
