"""What the trusted grading process tells its parent, one JSON line per record, over an inherited pipe.

For each file it grades (``job``, in order): first ``collected`` (every test the suite will run,
with its weight, sent before that file's code runs), then one ``result`` per finished test, then
``done``; or ``not_gradable``.
The parent validates every line against these models; anything else is a grader error for that
one file.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from quizgen.grading.report import TestResult

MAX_RECORD_BYTES = 1 << 20
MAX_STREAM_BYTES = 32 << 20


class PlannedTest(BaseModel):
    id: str
    name: str
    case: str = ""
    function: str = ""
    weight: float
    rule: str = ""


class Collected(BaseModel):
    type: Literal["collected"] = "collected"
    job: int = 0
    tests: list[PlannedTest]


class Finished(BaseModel):
    type: Literal["result"] = "result"
    job: int = 0
    result: TestResult


class NotGradable(BaseModel):
    type: Literal["not_gradable"] = "not_gradable"
    job: int = 0
    message: str


class Done(BaseModel):
    type: Literal["done"] = "done"
    job: int = 0


Record = Annotated[Collected | Finished | NotGradable | Done, Field(discriminator="type")]
_RECORD = TypeAdapter(Record)


class MalformedRecord(Exception):
    """A line on the results pipe that is not a record: a grader error for this one file."""


def write_record(fd: int, record: BaseModel) -> None:
    data = (record.model_dump_json() + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class RecordReader:
    """Splits the bytes read from the pipe into validated records."""

    def __init__(self) -> None:
        self._buffer = b""
        self._total = 0

    def feed(self, data: bytes) -> list:
        self._total += len(data)
        if self._total > MAX_STREAM_BYTES:
            raise MalformedRecord(f"the grading process wrote more than {MAX_STREAM_BYTES >> 20} MiB of results")
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > MAX_RECORD_BYTES:
            raise MalformedRecord("a result record is over 1 MiB")
        records = []
        for line in lines:
            try:
                records.append(_RECORD.validate_python(json.loads(line)))
            except (ValueError, ValidationError) as exc:
                raise MalformedRecord(f"a malformed result record ({str(exc)[:200]})") from None
        return records

    def leftover(self) -> bool:
        return bool(self._buffer.strip())
