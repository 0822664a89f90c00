"""Frontline's planning engine: plan problems in, answers out.

Pure Python and OR-Tools: no Flask, no database. See ../shared/PROBLEM_FORMAT.md (format 1.1).

Two ways in: `parse_problem` / `load_problem` read a document and name every fault;
`make_problem` / `make_request` / `policy_from_dict` build the same Problem from values an
in-process caller (the scheduler) already holds, without checking them again.
"""

from optimizer.answer import Answer, LateReason, Move, Offer, Placement, RuleOffer, Unplaced
from optimizer.document import load_problem, parse_problem, policy_from_dict
from optimizer.problem import (
    Appointment,
    Garage,
    Location,
    Policy,
    Problem,
    ProblemError,
    Request,
    RulePolicy,
    Technician,
    Weights,
    make_problem,
    make_request,
)
from optimizer.rule import rule_offers
from optimizer.solve import solve
from optimizer.validate import Check, check_answer

__all__ = [
    "Answer",
    "Appointment",
    "Check",
    "Garage",
    "LateReason",
    "Location",
    "Move",
    "Offer",
    "Placement",
    "Policy",
    "Problem",
    "ProblemError",
    "Request",
    "RuleOffer",
    "RulePolicy",
    "Technician",
    "Unplaced",
    "Weights",
    "check_answer",
    "load_problem",
    "make_problem",
    "make_request",
    "parse_problem",
    "policy_from_dict",
    "rule_offers",
    "solve",
]
