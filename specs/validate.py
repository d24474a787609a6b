"""`tunesmith validate FILE...`: every problem of every file, one line each, never a traceback."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from specs.errors import Problem, SpecError


def validate_file(path: str | os.PathLike) -> list[Problem]:
    """The problems of one spec file (empty when it is valid). Never raises."""
    from specs.yamlio import load_spec

    try:
        load_spec(path)
    except SpecError as error:
        return error.problems
    except Exception as exc:  # a bug of ours must still read as a problem, not a traceback
        return [Problem(str(path), None, None, "", f"unexpected error while validating: {exc!r}", None)]
    return []


def validate_text(text: str, file: str) -> list[Problem]:
    """The problems of spec text not yet saved (an editor buffer); ``file`` names it and picks the model."""
    from specs.registry import model_for
    from specs.yamlio import loads_spec

    model = model_for(file)
    if model is None:
        return [Problem(file, None, None, "", "unknown spec file name: tunesmith cannot tell which spec this is", None)]
    try:
        loads_spec(text, model, file)
    except SpecError as error:
        return error.problems
    except Exception as exc:
        return [Problem(file, None, None, "", f"unexpected error while validating: {exc!r}", None)]
    return []


def format_problem(problem: Problem) -> str:
    """`file:line:column: path: message (allowed: ...)`, leaving out the parts it does not have."""
    where = problem.file
    if problem.line is not None:
        where += f":{problem.line}"
        if problem.column is not None:
            where += f":{problem.column}"
    text = f"{where}: "
    if problem.path:
        text += f"{problem.path}: "
    text += problem.message
    if problem.allowed:
        text += f" (allowed: {problem.allowed})"
    return text


def validate_paths(paths: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate each file, print its problems (or `ok`), return the exit code: 1 if any problem."""
    out = out or sys.stdout
    err = err or sys.stderr
    if not paths:
        print("validate: give one or more spec files", file=err)
        return 2
    failed = False
    for path in paths:
        problems = validate_file(path)
        for problem in problems:
            print(format_problem(problem), file=out)
        if problems:
            failed = True
        else:
            print(f"{path}: ok", file=out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(validate_paths(sys.argv[1:]))
