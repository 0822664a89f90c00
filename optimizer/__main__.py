"""`python -m optimizer solve PROBLEM.json` and `python -m optimizer check PROBLEM.json ANSWER.json`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from optimizer.answer import Answer, answer_from_dict
from optimizer.problem import ProblemError, load_problem
from optimizer.solve import DEFAULT_WORKERS, solve
from optimizer.validate import check_answer


def _emit(doc: dict, out: str | None) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        try:
            print(text, flush=True)
        except BrokenPipeError:  # the reader stopped early (| head): its choice, not a fault to trace back
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own advice, so exit is quiet


def cmd_solve(args: argparse.Namespace) -> int:
    if args.out:  # before any solving: an answer that cannot be written is a solve wasted, then a traceback
        try:
            with Path(args.out).open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            print(f"cannot write the answer to {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    try:
        problem = load_problem(args.problem)
    except ProblemError as exc:
        _emit(Answer(status="INVALID", errors=exc.errors).to_dict(None), args.out)
        return 2
    answer = solve(problem, time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    _emit(answer.to_dict(problem.zone, problem.number_ids), args.out)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        problem = load_problem(args.problem)
    except ProblemError as exc:
        print("problem is INVALID:\n  " + "\n  ".join(exc.errors))
        return 2
    try:
        answer = answer_from_dict(json.loads(Path(args.answer).read_text(encoding="utf-8-sig")))
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        print(f"answer cannot be read: {exc}")
        return 2
    except RecursionError:  # json's decoder recurses once per level of nesting
        print("answer cannot be read: not valid JSON: nested too deeply")
        return 2
    result = check_answer(problem, answer, statement=True)
    if answer.errors:
        result.feasible, result.violations = False, [*answer.errors, *result.violations]
    if result.feasible:
        print(f"feasible; cost {result.cost:.3f}")
    else:
        print(f"INFEASIBLE: {len(result.violations)} violation(s); cost {result.cost:.3f}")
        for v in result.violations:
            print(f"  - {v}")
    stated = answer.cost
    if isinstance(stated, (int, float)) and not isinstance(stated, bool) and abs(stated - result.cost) > 1e-3:
        print(f"stated cost {stated} differs from the format's {result.cost:.3f}")
        return 1
    return 0 if result.feasible else 1


def _positive(kind, most):
    """An option's reader: a number above 0 and at most `most` (argparse then exits 2 with the option named)."""
    def read(text: str):
        value = kind(text)  # a ValueError is argparse's "invalid float value"
        if not 0 < value <= most:
            raise argparse.ArgumentTypeError(f"must be above 0 and at most {most:g}, not {text}")
        return value
    read.__name__ = kind.__name__
    return read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimizer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve a plan problem and print (or write) the answer")
    s.add_argument("problem")
    s.add_argument("--out", help="write the answer here instead of printing it")
    s.add_argument("--time-limit", type=_positive(float, 86400), help="seconds (default: the problem's policy)")
    s.add_argument("--workers", type=_positive(int, 64), default=DEFAULT_WORKERS)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_solve)
    c = sub.add_parser("check", help="say whether an answer is feasible and what it costs")
    c.add_argument("problem")
    c.add_argument("answer")
    c.set_defaults(func=cmd_check)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
