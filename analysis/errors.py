"""Errors the command line turns into one-line messages (exit code 2)."""
from __future__ import annotations


class AnalysisInputError(Exception):
    """Bad input: the message names the file and the problem, in one line.

    Parameters
    ----------
    source : str
        The file (or other input) at fault.
    problem : str
        What is wrong, in words a researcher understands.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")
