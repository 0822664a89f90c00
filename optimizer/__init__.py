"""Frontline's planning engine: plan problems in, answers out.

Pure Python and OR-Tools: no Flask, no database. See ../shared/PROBLEM_FORMAT.md.
"""

from optimizer.answer import Answer
from optimizer.problem import Problem, ProblemError, load_problem, parse_problem
from optimizer.solve import solve
from optimizer.validate import Check, check_answer

__all__ = [
    "Answer",
    "Check",
    "Problem",
    "ProblemError",
    "check_answer",
    "load_problem",
    "parse_problem",
    "solve",
]
