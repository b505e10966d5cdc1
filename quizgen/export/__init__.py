"""HTML study sheets (``quiz export``): Jinja2 templates from templates/, Markdown with MathML, no torch."""

from quizgen.export.html import render_sheet, select_questions, write_sheet
from quizgen.export.progress import QuestionProgress, load_progress

__all__ = ["QuestionProgress", "load_progress", "render_sheet", "select_questions", "write_sheet"]
