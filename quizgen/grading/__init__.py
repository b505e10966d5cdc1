"""Grading: a submission runs in a sandboxed worker; the hidden suite and the reference stay in a trusted process.

Only ``runner`` and ``report`` are meant to be used from outside; the rest are its parts:
``static`` (checks before anything runs), ``launcher``/``worker``/``sandbox`` (the untrusted side),
``protocol`` (what crosses between them), ``proxy`` (the ``submission`` fixture), ``plugin``
(pytest -> results), ``compare`` and ``suite`` (what hidden suites are written with).
"""
