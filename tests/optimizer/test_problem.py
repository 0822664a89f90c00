"""Malformed problems are INVALID with every fault named, and the CLI never shows a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from optimizer.problem import ProblemError, parse_problem
from tests.optimizer.factory import at, random_problem


def faults(doc) -> list[str]:
    with pytest.raises(ProblemError) as exc:
        parse_problem(doc)
    return exc.value.errors


def test_every_fault_is_named_with_its_field_path():
    doc = random_problem(3, appointments=2)
    doc["mode"] = "juggle"
    doc["now"] = "tomorrow"
    doc["garages"][0]["lifts"] = -1
    doc["technicians"][0]["garage"] = "nowhere"
    doc["appointments"][1]["start"] = "2026-08-06T10:00:00"  # no offset
    doc["requests"][0]["duration_minutes"] = 0
    doc["policy"]["weights"]["wait"]["P1"] = "high"
    errors = faults(doc)
    text = "\n".join(errors)
    for expected in ["problem.mode", "problem.now", "garages[0].lifts", "technicians[0].garage",
                     "appointments[1].start", "requests[0].duration_minutes", "policy.weights.wait.P1"]:
        assert expected in text, f"{expected} missing from {errors}"
    assert "has no UTC offset" in text


@pytest.mark.parametrize("doc, expected", [
    ([], "problem: must be an object"),
    ({"mode": "offers"}, "problem.now: is required"),
    ({"mode": "offers", "now": "2026-08-06T09:00:00+02:00", "garages": "x"}, "problem.garages: must be a list"),
])
def test_structural_faults(doc, expected):
    assert expected in "\n".join(faults(doc))


def test_a_request_with_a_null_location_and_no_garages_is_invalid_not_dropped():
    doc = random_problem(4, appointments=0)
    doc["requests"][0].pop("garages", None)
    doc["requests"][0]["location"] = None
    assert "requests[0].location: is required when garages is null or absent" in faults(doc)


def test_a_policy_field_given_as_null_keeps_its_default_but_a_null_radius_is_no_limit():
    doc = random_problem(4, appointments=0)
    doc["policy"] = {"offers": None, "max_moves": None, "time_limit_seconds": None, "max_travel_km": None,
                     "weights": {"move": None, "wait": {"P1": None, "P2": 7, "P3": 1}}, "rule": None}
    policy = parse_problem(doc).policy
    assert (policy.offers, policy.max_moves, policy.time_limit_seconds) == (5, 3, 2.0)
    assert (policy.weights.move, policy.weights.wait["P1"], policy.weights.wait["P2"]) == (30, 100, 7)
    assert policy.rule.garages == 1 and policy.max_travel_km is None


def test_duplicate_ids_and_unknown_references():
    doc = random_problem(4, appointments=1)
    doc["technicians"].append(dict(doc["technicians"][0]))
    doc["requests"][0]["garages"] = ["g0", "g9"]
    doc["appointments"][0]["technician"] = "ghost"
    text = "\n".join(faults(doc))
    assert "duplicate technician id" in text
    assert "unknown garage 'g9'" in text
    assert "unknown technician 'ghost'" in text


@pytest.mark.parametrize("spoil, fault", [
    (lambda d: d["garages"][0].update(lifts=-1), "garages[0].lifts"),
    (lambda d: d["garages"][0].update(location={"lat": 200, "lon": 4.8}), "garages[0].location.lat"),
    (lambda d: d["technicians"][0].update(shifts="always"), "technicians[0].shifts"),
])
def test_a_faulty_garage_or_technician_is_named_once_not_as_unknown_wherever_it_is_referred_to(spoil, fault):
    """A garage with lifts -1 also made each of its technicians name "an unknown garage" and each of their
    appointments "an unknown technician": faults that are not there, at fields that are right."""
    doc = random_problem(4, appointments=6, requests=2)
    doc["technicians"][0]["garage"] = doc["garages"][0]["id"]
    for a in doc["appointments"]:
        a["technician"] = doc["technicians"][0]["id"]
    for r in doc["requests"]:
        r["garages"] = [doc["garages"][0]["id"]]
    spoil(doc)
    errors = faults(doc)
    assert [e.split(":")[0] for e in errors] == [fault], errors


def test_an_in_process_caller_may_hand_over_aware_datetimes_instead_of_text():
    text_doc = random_problem(5, appointments=3)

    def as_datetimes(node):
        if isinstance(node, dict):
            return {k: datetime.fromisoformat(v) if k in ("start", "end", "earliest") and isinstance(v, str)
                    else as_datetimes(v) for k, v in node.items()}
        return [as_datetimes(v) for v in node] if isinstance(node, list) else node

    assert parse_problem(as_datetimes(text_doc)) == parse_problem(text_doc)
    naive = as_datetimes(text_doc)
    naive["appointments"][0]["start"] = naive["appointments"][0]["start"].replace(tzinfo=None)
    assert "appointments[0].start" in "\n".join(faults(naive)) and "has no UTC offset" in "\n".join(faults(naive))


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "optimizer", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_reports_invalid_with_exit_status_2(tmp_path, repo_root):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 1, "mode": "offers", "now": "soon"}))
    result = run_cli("solve", str(bad), cwd=repo_root)
    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert answer["status"] == "INVALID"
    assert any("problem.now" in e for e in answer["errors"])
    # the documented answer, empty: nothing placed, no cost
    assert answer["placements"] == answer["moves"] == answer["offers"] == answer["rule_offers"] == []
    assert answer["cost"] is None and answer["unplaced"] == []
    assert "Traceback" not in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run_cli("solve", str(broken), cwd=repo_root)
    assert result.returncode == 2 and "not valid JSON" in result.stdout


def test_cli_says_in_one_line_when_it_cannot_write_the_answer_and_solves_nothing(tmp_path, repo_root):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(random_problem(5, mode="squeeze", appointments=5, requests=2)))
    result = run_cli("solve", str(problem), "--out", str(tmp_path / "no-such-folder" / "a.json"), cwd=repo_root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"cannot write the answer to {tmp_path / 'no-such-folder' / 'a.json'}: " \
                                    "No such file or directory"


@pytest.mark.parametrize("option", [["--time-limit", "0"], ["--time-limit", "-1"], ["--time-limit", "nan"],
                                    ["--workers", "0"]])
def test_cli_refuses_a_time_limit_or_workers_that_cannot_be_with_exit_status_2(tmp_path, repo_root, option):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(random_problem(3, mode="offers", appointments=1, requests=1)))
    result = run_cli("solve", str(problem), *option, cwd=repo_root)
    assert result.returncode == 2 and option[0] in result.stderr and "must be above 0" in result.stderr
    assert result.stdout == "", "nothing solved"


def test_cli_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path, repo_root):
    problem = tmp_path / "p.json"
    # an answer far beyond a pipe's buffer (64 KB): the reader is gone before it is all written
    problem.write_text(json.dumps(random_problem(3, mode="offers", appointments=1, requests=400)))
    solver = subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(problem)], cwd=repo_root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    solver.stdout.read(1)
    solver.stdout.close()  # as `| head -c 1` does
    _, err = solver.communicate(timeout=60)
    assert solver.returncode == 0 and b"Traceback" not in err, err.decode()


def test_cli_solves_and_checks_its_own_answer(tmp_path, repo_root):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(random_problem(5, mode="squeeze", appointments=5, requests=2)))
    out = tmp_path / "a.json"
    assert run_cli("solve", str(problem), "--out", str(out), "--time-limit", "2", cwd=repo_root).returncode == 0
    answer = json.loads(out.read_text())
    assert answer["status"] in ("OPTIMAL", "FEASIBLE")
    assert len(answer["rule_offers"]) == 2
    checked = run_cli("check", str(problem), str(out), cwd=repo_root)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("feasible; cost")


@pytest.mark.parametrize("change, says", [
    (lambda a: a.update(status="INVALID"), "status: INVALID for an answer with a plan"),
    (lambda a: a.update(bound=a["cost"] + 1000), "so it bounds nothing"),
    (lambda a: a["unplaced"].append({"request": a["placements"][0]["request"], "reason": "none"}),
     "both placed and unplaced"),
    (lambda a: a.update(placements=a["placements"][1:]), "neither placed nor unplaced"),
    (lambda a: a.update(cost=str(a["cost"])), "is not a number"),
    (lambda a: a.update(bound="low"), "bound: 'low' is not a number"),
    (lambda a: a.update(cost=float("nan")), "cost: nan is not a number"),  # NaN differs from nothing by > 1e-3
    (lambda a: a.update(bound=float("nan")), "bound: nan is not a number"),
    (lambda a: a.pop("cost"), "cost: missing"),
    (lambda a: a.pop("rule_offers"), "rule_offers: missing"),
    (lambda a: a.update(rule_offers=[None if r else {**a["placements"][0], "request": p["request"]}
                                     for r, p in zip(a["rule_offers"], a["placements"], strict=True)]),
     "given, the rules give"),
])
def test_cli_check_judges_what_an_answer_says_of_itself(tmp_path, repo_root, change, says):
    """A feasible plan with a false status, a bound above its cost, a request both placed and unplaced (or
    neither), or rule offers that are not the rules': each is named, and the answer is not called feasible."""
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(random_problem(5, mode="squeeze", appointments=5, requests=2)))
    out = tmp_path / "a.json"
    assert run_cli("solve", str(problem), "--out", str(out), "--time-limit", "2", cwd=repo_root).returncode == 0
    answer = json.loads(out.read_text())
    assert len(answer["placements"]) == 2
    change(answer)
    out.write_text(json.dumps(answer))
    checked = run_cli("check", str(problem), str(out), cwd=repo_root)
    assert checked.returncode == 1 and checked.stdout.startswith("INFEASIBLE") and says in checked.stdout, \
        checked.stdout


def check_one_placement(tmp_path, repo_root, start: str, end: str, shift: tuple[float, float] | None = None):
    """`check` of a one-technician squeeze problem against an answer placing its one-hour request at start-end."""
    doc = random_problem(6, mode="squeeze", garages=1, techs=1, appointments=0, requests=1)
    doc["technicians"][0]["skills"] = ["maintenance"]
    if shift is not None:
        doc["technicians"][0]["shifts"] = [{"start": at(shift[0]), "end": at(shift[1])}]
    doc["requests"][0].update(skill="maintenance", duration_minutes=60, lift=False)
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(doc))
    answer = tmp_path / "a.json"
    answer.write_text(json.dumps({"status": "FEASIBLE", "placements": [
        {"request": "r0", "garage": "g0", "technician": "g0-t0", "start": start, "end": end}]}))
    return run_cli("check", str(problem), str(answer), cwd=repo_root)


def test_cli_check_names_each_violation(tmp_path, repo_root):
    result = check_one_placement(tmp_path, repo_root, "2026-08-06T20:07:00+02:00", "2026-08-06T21:07:00+02:00")
    assert result.returncode == 1
    assert "off the 30-minute grid" in result.stdout
    assert "not inside a single shift" in result.stdout


def test_cli_check_refuses_times_between_minutes(tmp_path, repo_root):
    # 10:00:30 is on no grid; read to the minute it passed as 10:00, feasible, and its wait cost too low
    result = check_one_placement(tmp_path, repo_root, "2026-08-06T10:00:30+02:00", "2026-08-06T11:00:30+02:00",
                                 shift=(8, 12))
    assert result.returncode == 1 and result.stdout.startswith("INFEASIBLE")
    assert "placements[0].start: 2026-08-06T10:00:30+02:00 is not on a whole minute" in result.stdout


@pytest.mark.parametrize("text", ['{"a":' * 50_000 + "1" + "}" * 50_000, "[" * 100_000 + "]" * 100_000,
                                  '{"version": 1, "requests": ' + "[" * 100_000 + "]" * 100_000 + "}"])
def test_cli_refuses_deeply_nested_json_as_invalid(tmp_path, repo_root, text):
    deep = tmp_path / "deep.json"
    deep.write_text(text)
    result = run_cli("solve", str(deep), cwd=repo_root)
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["status"] == "INVALID"
    assert "Traceback" not in result.stderr
    checked = run_cli("check", str(deep), str(deep), cwd=repo_root)
    assert checked.returncode == 2 and "Traceback" not in checked.stderr


def test_cli_refuses_a_whole_number_too_long_to_read_as_invalid(tmp_path, repo_root):
    """Python reads at most 4,300 digits of an integer: a longer one was a traceback (exit 1), in any field."""
    doc = json.dumps(random_problem(5, mode="squeeze", appointments=3, requests=1))
    for field in ('"slot_minutes": ', '"flex_minutes": '):
        long = tmp_path / "long.json"
        long.write_text(doc.replace(field, field + "1" + "0" * 4400 + ", \"x\": ", 1))
        result = run_cli("solve", str(long), cwd=repo_root)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-500:]
        assert "more than 4,300 digits" in " ".join(json.loads(result.stdout)["errors"])
        checked = run_cli("check", str(long), str(long), cwd=repo_root)
        assert checked.returncode == 2 and "Traceback" not in checked.stderr


def test_cli_reads_a_file_that_begins_with_a_byte_order_mark(tmp_path, repo_root):
    """As Windows editors save UTF-8: the mark is no text, and the file the same problem."""
    problem = tmp_path / "p.json"
    problem.write_bytes(b"\xef\xbb\xbf" + json.dumps(random_problem(5, mode="squeeze", appointments=3, requests=1)
                                                     ).encode())
    out = tmp_path / "a.json"
    assert run_cli("solve", str(problem), "--out", str(out), "--time-limit", "1", cwd=repo_root).returncode == 0
    out.write_bytes(b"\xef\xbb\xbf" + out.read_bytes())
    checked = run_cli("check", str(problem), str(out), cwd=repo_root)
    assert checked.returncode == 0 and checked.stdout.startswith("feasible"), checked.stdout


def test_cli_check_refuses_a_deeply_nested_answer(tmp_path, repo_root):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(random_problem(5, mode="squeeze", appointments=5, requests=2)))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    result = run_cli("check", str(problem), str(deep), cwd=repo_root)
    assert result.returncode == 2 and "nested too deeply" in result.stdout
    assert "Traceback" not in result.stderr


ABSURD = [
    (lambda d: d.update(slot_minutes=1e30), "problem.slot_minutes"),
    (lambda d: d["garages"][0].update(lifts=1e20), "garages[0].lifts"),
    (lambda d: d["policy"]["weights"].update(move=1e300), "policy.weights.move"),
    (lambda d: d["policy"]["weights"]["wait"].update(P1=1e300), "policy.weights.wait.P1"),
    (lambda d: d["policy"].update(max_moves=1e20), "policy.max_moves"),
    (lambda d: d["policy"].update(time_limit_seconds=1e30), "policy.time_limit_seconds"),
    (lambda d: d["policy"].update(travel_speed_kmh=1e-300), "policy.travel_speed_kmh"),
    (lambda d: d["policy"]["rule"].update(min_notice_minutes={"P1": 1e30}), "policy.rule.min_notice_minutes"),
    (lambda d: d["appointments"][0].update(flex_minutes=1e20), "appointments[0].flex_minutes"),
    (lambda d: d["requests"][0].update(duration_minutes=1e20), "requests[0].duration_minutes"),
    (lambda d: d["requests"][0].update(location={"lat": 1e30, "lon": 4.8}), "requests[0].location.lat"),
    (lambda d: d["technicians"][0]["shifts"].append({"start": at(8), "end": "9999-12-31T00:00:00+00:00"}),
     "technicians[0].shifts[1].end"),
]


@pytest.mark.parametrize("change,field", ABSURD, ids=[f for _, f in ABSURD])
def test_absurd_values_are_invalid_and_name_the_field(change, field):
    doc = random_problem(3, mode="squeeze", garages=1, techs=1, appointments=1, requests=1, days=1)
    change(doc)
    errors = faults(doc)
    assert any(e.startswith(field) for e in errors), errors


def test_a_long_time_limit_for_a_run_overnight_is_a_valid_document():
    doc = random_problem(3, mode="replan", garages=1, techs=1, appointments=1, requests=1, days=1)
    doc["policy"]["time_limit_seconds"] = 7200
    assert parse_problem(doc).policy.time_limit_seconds == 7200


def test_cli_answers_invalid_for_an_absurd_value_and_never_solves_it(tmp_path, repo_root):
    doc = random_problem(3, mode="squeeze", appointments=2, requests=1)
    doc["slot_minutes"] = 1e30
    doc["garages"][0]["lifts"] = 1e20
    path = tmp_path / "absurd.json"
    path.write_text(json.dumps(doc))
    result = run_cli("solve", str(path), cwd=repo_root)
    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert answer["status"] == "INVALID"
    assert any(e.startswith("problem.slot_minutes") for e in answer["errors"])
    assert any(e.startswith("garages[0].lifts") for e in answer["errors"])


def test_the_letter_of_the_format_no_offers_asked_for_and_an_extra_notice_key_are_valid():
    # "Up to `offers` offers" allows 0, and extra fields are allowed and ignored, in the notice by urgency too.
    from optimizer.solve import solve
    from optimizer.validate import check_answer

    doc = random_problem(11, requests=2)
    doc["policy"]["offers"] = 0
    doc["policy"]["rule"]["min_notice_minutes"] = {"P1": 0, "P4": 60, "note": "the desk's"}
    problem = parse_problem(doc)
    assert problem.policy.rule.min_notice_minutes == {"P1": 0, "P2": 1440, "P3": 1440}
    answer = solve(problem)
    assert answer.offers == []
    assert [u.reason for u in answer.unplaced] == ["no offer asked for (policy.offers is 0)"] * 2
    check = check_answer(problem, answer)
    assert check.feasible and check.cost == answer.cost


def renamed(doc: dict, names: dict) -> dict:
    """The document with its garages and technicians renamed, wherever they are named."""
    doc = json.loads(json.dumps(doc))
    for g in doc["garages"]:
        g["id"] = names[g["id"]]
    for t in doc["technicians"]:
        t["id"], t["garage"] = names[t["id"]], names[t["garage"]]
    for a in doc["appointments"]:
        a["technician"] = names[a["technician"]]
    for r in doc["requests"]:
        if r.get("garages"):
            r["garages"] = [names[g] for g in r["garages"]]
    return doc


@pytest.mark.parametrize("mode", ["offers", "squeeze"])
def test_ids_written_as_numbers_are_read_as_those_ids_wherever_they_are_named(mode):
    """A garage id 7 and a technician's `"garage": 7` are one garage: the answer is the one with "7" written as text
    (the format's ids are text; a number there is not a fault in one place and a reference to nothing in another)."""
    from optimizer import solve

    doc = random_problem(5, mode=mode, garages=2, techs=2, appointments=4, requests=2)
    numbers = {g["id"]: 70 + i for i, g in enumerate(doc["garages"])}
    numbers |= {t["id"]: 700 + i for i, t in enumerate(doc["technicians"])}
    numbered = solve(parse_problem(renamed(doc, numbers)))
    written = solve(parse_problem(renamed(doc, {old: str(new) for old, new in numbers.items()})))
    assert numbered.status == written.status != "INVALID"
    assert numbered.to_dict(None)["placements"] == written.to_dict(None)["placements"]
    assert numbered.to_dict(None)["offers"] == written.to_dict(None)["offers"]
    assert numbered.cost == pytest.approx(written.cost)


def test_an_answer_names_things_as_the_problem_did_and_9_is_a_smaller_id_than_10(tmp_path, repo_root):
    """Ids written as numbers come back as numbers (a caller looks them up as it wrote them), and "the smaller
    technician id" of the rule offer's tie is the smaller number: 9, not "10" as text would sort it."""
    doc = {"version": 1, "mode": "squeeze", "now": "2026-08-06T08:00:00+02:00", "slot_minutes": 15,
           "garages": [{"id": 1, "location": {"lat": 45.75, "lon": 4.85}, "lifts": 2}],
           "technicians": [{"id": tid, "garage": 1, "skills": ["diagnostics"],
                            "shifts": [{"start": "2026-08-06T08:00:00+02:00", "end": "2026-08-06T12:00:00+02:00"}]}
                           for tid in (10, 9)],
           "appointments": [{"id": 500, "technician": 10, "start": "2026-08-06T09:00:00+02:00",
                             "end": "2026-08-06T10:00:00+02:00", "skill": "diagnostics"}],
           "requests": [{"id": 3, "duration_minutes": 60, "skill": "diagnostics", "urgency": "P1",
                         "location": {"lat": 45.75, "lon": 4.85}, "garages": [1]}],
           "policy": {"rule": {"garages": 1, "min_notice_minutes": 0}, "max_moves": 0}}
    problem, out = tmp_path / "p.json", tmp_path / "a.json"
    problem.write_text(json.dumps(doc))
    assert run_cli("solve", str(problem), "--out", str(out), cwd=repo_root).returncode == 0
    answer = json.loads(out.read_text())
    rule = answer["rule_offers"][0]
    assert (rule["request"], rule["garage"], rule["technician"]) == (3, 1, 9)
    placed = answer["placements"][0]
    assert (placed["request"], placed["garage"], placed["technician"]) == (3, 1, 9)
    assert placed["start"] == "2026-08-06T08:00:00+02:00"
    checked = run_cli("check", str(problem), str(out), cwd=repo_root)
    assert checked.returncode == 0 and checked.stdout.startswith("feasible"), checked.stdout
    doc["mode"] = "offers"
    problem.write_text(json.dumps(doc))
    assert run_cli("solve", str(problem), "--out", str(out), cwd=repo_root).returncode == 0
    first = json.loads(out.read_text())["offers"][0]
    assert (first["request"], first["garage"], first["technician"]) == (3, 1, 9)


def test_ids_written_as_text_sort_as_text_even_when_they_are_digits():
    """Only a number is compared as a number: "10" written as text is the smaller id, as text sorts."""
    from optimizer import solve

    doc = {"version": 1, "mode": "offers", "now": "2026-08-06T08:00:00+02:00", "slot_minutes": 15,
           "garages": [{"id": "g", "location": {"lat": 45.75, "lon": 4.85}, "lifts": 2}],
           "technicians": [{"id": tid, "garage": "g", "skills": ["diagnostics"],
                            "shifts": [{"start": "2026-08-06T08:00:00+02:00", "end": "2026-08-06T12:00:00+02:00"}]}
                           for tid in ("9", "10")],
           "appointments": [], "policy": {"rule": {"garages": 1, "min_notice_minutes": 0}},
           "requests": [{"id": "r", "duration_minutes": 60, "skill": "diagnostics", "urgency": "P1", "garages": ["g"]}]}
    answer = solve(parse_problem(doc)).to_dict(None)
    assert answer["rule_offers"][0]["technician"] == "10" and answer["offers"][0]["technician"] == "10"


def test_a_number_id_of_one_kind_leaves_the_same_text_id_of_another_kind_as_written(tmp_path, repo_root):
    """Request 9 written as a number makes neither technician "9" a number nor its tie with "10" numeric; and
    garages at one distance tie by id as technicians do: 9 before 10 when written as numbers."""
    shift = [{"start": "2026-08-06T08:00:00+02:00", "end": "2026-08-06T12:00:00+02:00"}]
    doc = {"version": 1, "mode": "offers", "now": "2026-08-06T08:00:00+02:00", "slot_minutes": 15,
           "garages": [{"id": gid, "location": {"lat": 45.75, "lon": 4.85}, "lifts": 2} for gid in ("1", 10, 9)],
           "technicians": [{"id": "9", "garage": "1", "skills": ["diagnostics"], "shifts": shift},
                           {"id": "10", "garage": "1", "skills": ["diagnostics"], "shifts": shift},
                           *({"id": f"t{g}", "garage": g, "skills": ["tyres"], "shifts": shift} for g in (10, 9))],
           "appointments": [], "policy": {"rule": {"garages": 3, "min_notice_minutes": 0}},
           "requests": [{"id": "r", "duration_minutes": 60, "skill": "diagnostics", "urgency": "P1", "garages": ["1"]},
                        {"id": 9, "duration_minutes": 60, "skill": "tyres", "urgency": "P1",
                         "location": {"lat": 45.75, "lon": 4.85}}]}
    problem, out = tmp_path / "p.json", tmp_path / "a.json"
    problem.write_text(json.dumps(doc))
    assert run_cli("solve", str(problem), "--out", str(out), cwd=repo_root).returncode == 0
    first, second = json.loads(out.read_text())["rule_offers"]
    assert (first["request"], first["garage"], first["technician"]) == ("r", "1", "10")
    assert (second["request"], second["garage"], second["technician"]) == (9, 9, "t9")
