"""One problem line, and one way for a validator to fail: what every check of the project reports.

``make validate`` (:mod:`libraryops.validation`), the Azure spec (:mod:`libraryops.cloud.spec`),
the hours and wireless models and the firewall merge all describe a problem the same way and
print it as one line::

    file: key: problem (allowed: ...)
    file: key: warning: problem (allowed: ...)

This module imports nothing of the project, so every model can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class Problem:
    """One problem: ``file: key: problem (allowed: ...)`` (the parenthesis only when known), or
    a warning: ``file: key: warning: problem ...``, which is printed but does not fail.

    Attributes:
        file: the file as printed (relative to the repository when inside it), or whatever
            names the source (a firewall declaration's layer).
        key: dotted path inside the file, or ``line L, column C`` for a YAML syntax error.
        problem: what is wrong, without the offending value.
        allowed: what would be accepted ("" when the problem has no such set).
        warning: True for something that works today but will go wrong (e.g. closure dates
            running out); ``make validate`` still exits 0.
    """

    file: str
    key: str
    problem: str
    allowed: str = ""
    warning: bool = False

    def __str__(self) -> str:
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        kind = "warning: " if self.warning else ""
        return f"{self.file}: {self.key}: {kind}{self.problem}{allowed}"


def fail(kind: str, message: str, **context: str) -> PydanticCustomError:
    """A pydantic error with a fixed message (never the input value), for a validator to raise;
    ``allowed=`` overrides the description of the field it is raised in.

    Args:
        kind: the error type pydantic reports (``time``, ``ssh_key``, ...).
        message: the problem, lower case first, without the offending value.
        context: ``allowed=<text>``: what would be accepted.
    """
    return PydanticCustomError(kind, message, context)
