"""quizgen: a question bank and auto-grader for LLM-architecture interview questions 51-65."""

__version__ = "0.1.0"
