"""Errors a user can cause. The CLI turns them into messages; tracebacks are for our own bugs."""


class QuizgenError(Exception):
    """Something the user can fix; the message says what and how."""


class BankError(QuizgenError):
    """A question file is malformed; the message names the file, the line and the field."""


class UnusableSubmission(QuizgenError):
    """The submitted file cannot be graded at all (syntax error, missing function, unknown question)."""


class StoreError(QuizgenError):
    """The progress database cannot be opened or written."""
