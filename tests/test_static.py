"""The static policy, run before anything: harmless computation passes, the reaches for the
interpreter's machinery that the attacks use are refused with file:line, and odd files are refused
cleanly instead of crashing the grader."""

import pytest

from quizgen.errors import UnusableSubmission
from quizgen.grading.static import check_source

HEADER = "# quizgen: question 52\n"
FUNCTIONS = "\ndef route_top_k(l, k, r): pass\ndef load_balancing_loss(l, k): pass\ndef moe_forward(*a): pass\n"


def _check(bank, body: str):
    return check_source(HEADER + body + FUNCTIONS, "moe.py", bank, None)


@pytest.mark.parametrize("body", [
    "import struct, fractions, decimal, copy, re, string, array, random, types, contextlib\nimport torch.nn.functional as F",
    "from collections import OrderedDict\nfrom torch import Tensor, nn\nPATTERN = re.compile('x') if False else None",
    "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n    def forward(self, x):\n        return x",
    "x = getattr(object(), 'shape', None)\nlayer = None\n# layer.eval() is a module method\ny = [m.eval for m in []]",
])
def test_ordinary_kernel_code_passes(bank, body):
    _check(bank, "import re\nimport torch\nfrom torch import nn\n" + body)


@pytest.mark.parametrize("body, refused", [
    ("import os", "moe.py:2: imports 'os'"),
    ("import torch\nS = getattr(torch, 'sys')", "moe.py:3: uses getattr() with a computed, underscore or refused name"),
    ("from torch import sys as s", "moe.py:2: imports 'sys' from 'torch'"),
    ("import torch\nB = torch.sys.modules", "moe.py:3: reads the attribute .sys"),
    ("import torch\nf = torch.ops.aten.mm", "moe.py:3: reads the attribute .ops"),
    ("import torch\nlib = torch.library", "moe.py:3: reads the attribute .library"),
    ("import operator\nget = operator.attrgetter('sys')", "moe.py:3: reads the attribute .attrgetter"),
    ("import functools\nget = functools.partial(getattr, 1)", "moe.py:3: uses getattr() with a computed"),
    ("x = (1).__class__", "moe.py:2: reads the underscore attribute .__class__"),
    ("e = __import__('os')", "moe.py:2: uses __import__()"),
    ("exec('1')", "moe.py:2: uses exec()"),
    ("import torch\ntorch.matmul = None", "moe.py:3: changes torch.matmul, an attribute of an imported module"),
    ("import torch\nmatch torch:\n    case object(sys=s):\n        pass", "moe.py:4: reads the attribute .sys in a pattern"),
    ("from torch.utils import _python_dispatch", "moe.py:2: imports '_python_dispatch' from 'torch.utils'"),
    ("import numpy", "moe.py:2: imports 'numpy'"),
])
def test_reaches_for_the_machinery_are_refused_with_file_and_line(bank, body, refused):
    with pytest.raises(UnusableSubmission) as excinfo:
        _check(bank, body)
    assert str(excinfo.value).startswith(refused), str(excinfo.value)


@pytest.mark.parametrize("body, says", [
    ("x = " + "-" * 100_000 + "1", "moe.py: the code is nested too deeply to read"),
    ("x = '\0'", "moe.py: the file cannot be read as Python"),
])
def test_files_that_would_crash_the_parser_are_refused_cleanly(bank, body, says):
    with pytest.raises(UnusableSubmission) as excinfo:
        _check(bank, body)
    assert str(excinfo.value).startswith(says)
