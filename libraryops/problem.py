"""One problem line, and one way for a validator to fail: what every check of the project reports.

``make validate`` (:mod:`libraryops.validation`), the Azure spec (:mod:`libraryops.cloud.spec`),
the hours and wireless models and the firewall merge all describe a problem the same way and
print it as one line::

    file: key: problem (allowed: ...)
    file: key: warning: problem (allowed: ...)

This module imports nothing of the project, so every model can use it.
"""

from __future__ import annotations

import unicodedata
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
        return printable(f"{self.file}: {self.key}: {kind}{self.problem}{allowed}")


def printable(text: str) -> str:
    """``text`` with every control or format character (Unicode categories Cc and Cf, e.g. ESC,
    NEL, newline, bidi overrides) written as a Python escape (``\\x1b``), so a key taken from a
    file stays one line and cannot drive the terminal."""
    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


def parse_problem(file: str, error: BaseException) -> Problem:
    """A YAML parser's error (PyYAML's ``MarkedYAMLError``, also as Ansible's ``__cause__``) as a
    Problem at its line and column, in the parser's own words: never its snippet of the source,
    which may be a line holding a password. A tab, the most common cause, is named as one.

    Args:
        file: the file as printed.
        error: the exception; without a ``problem_mark`` the key is ``file``.
    """
    mark = getattr(error, "problem_mark", None)
    words = " ".join(w for w in (getattr(error, "problem", None), getattr(error, "context", None))
                     if w) or type(error).__name__
    allowed = ""
    if "'\\t'" in words or "\t" in words:
        words = "a tab character where YAML allows only spaces"
        allowed = "indentation with spaces only"
    elif "cannot start any token" in words:  # Ansible's loader does not say which character
        allowed = ("indentation with spaces only (a tab cannot start a token); quotes around a "
                   "value starting with @ or `")
    elif "mapping values are not allowed" in words or "expected <block end>" in words:
        allowed = "check the indentation of this line and the one before it (spaces only)"
    key = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
    return Problem(file, key, words, allowed)


def fail(kind: str, message: str, **context: str) -> PydanticCustomError:
    """A pydantic error with a fixed message (never the input value), for a validator to raise;
    ``allowed=`` overrides the description of the field it is raised in.

    Args:
        kind: the error type pydantic reports (``time``, ``ssh_key``, ...).
        message: the problem, lower case first, without the offending value.
        context: ``allowed=<text>``: what would be accepted.
    """
    return PydanticCustomError(kind, message, context)
