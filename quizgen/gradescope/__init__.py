"""quizgen on Gradescope: ``build`` writes the autograder zip, ``run`` is its ``run_autograder``."""
