"""The recorded full tour (docs/results/tour.json) and the lessons' prose agree; the tour runs
lessons side by side, prints each whole and in order, and records what it measured."""
import json
import subprocess
import sys

import pytest

from minigan.commands import course

LESSONS = course.discover()
RECORD = json.loads(course.RESULTS_FILE.read_text()) if course.RESULTS_FILE.is_file() else None


def test_the_record_is_a_full_tour_of_every_lesson():
    assert RECORD is not None, f"{course.RESULTS_FILE} is missing: record a full tour"
    assert not RECORD["quick"] and RECORD["date"] and RECORD["machine"]
    assert RECORD["wall_seconds"] > 0
    for num, name, _ in LESSONS:
        entry = RECORD["lessons"].get(f"{num}_{name}")
        assert entry, f"lesson {num}_{name} is not in the recorded tour"
        assert entry["seconds"] > 0 and entry["checks"], f"{num}_{name}: no time or checks"


@pytest.mark.parametrize("num,name,path", LESSONS, ids=[f"{n}_{m}" for n, m, _ in LESSONS])
def test_numbers_quoted_in_the_prose_are_the_recorded_full_runs(num, name, path):
    """Each ``VALUE [#check name]`` in a lesson is what its full run printed for that check."""
    recorded = course.recorded_checks(f"{num}_{name}")
    for line, value, check in course.prose_quotes(path):
        assert check in recorded, (f"{path.name}:{line} quotes [#{check}], which the recorded "
                                   f"full run does not have (it has: {sorted(recorded)})")
        assert value == recorded[check]["value"], (
            f"{path.name}:{line} says {value} for {check!r}; the recorded full run printed "
            f"{recorded[check]['value']}")
    text = path.read_text()
    assert text.count("[#") == len(course.prose_quotes(path)), \
        f"{path.name}: a [# quote is not of the form 'VALUE [#check name]' on one line"


def test_prose_quotes_are_found_with_their_values(tmp_path):
    f = tmp_path / "99_demo.py"
    f.write_text('"""WGAN covered **8/8** [#ring8 modes, wgan] modes,\n'
                 'V = -1.3863 [#V at the end [nats]]; clip to [-c, c]."""\n')
    assert course.prose_quotes(f) == [(1, "8/8", "ring8 modes, wgan"),
                                      (2, "-1.3863", "V at the end [nats]")]


def test_a_quick_check_shows_the_recorded_full_run(tmp_path, monkeypatch, capsys):
    record = tmp_path / "tour.json"
    monkeypatch.setattr(course, "RESULTS_FILE", record)
    args = course.lesson_args("doc", ["--quick", "--out", str(tmp_path / "00_demo")])
    record.write_text(json.dumps({"lessons": {args.name: {"checks": {     # the caller's stem
        "modes covered": {"value": "4", "ok": True}}}}}))
    course.check(args, "modes covered", 1, reference="4", ok=False, quick_note="too short")
    course.check(args, "new number", 2.0, quick_note="too short")
    out = capsys.readouterr().out
    assert "quick run: too short (full run: 4)" in out
    assert "quick run: too short (full run: not recorded yet)" in out


def test_a_corrupt_record_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "tour.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        course.recorded_checks("00_demo", path=bad)


def test_tour_runs_lessons_side_by_side_and_records_them(tmp_path):
    """Two quick lessons, two at a time: each lesson's output is printed whole and in the
    course's order, and --record keeps their checks as printed."""
    record = tmp_path / "tour.json"
    proc = subprocess.run(
        [sys.executable, "-m", "minigan", "tour", "--quick", "--only", "0,4", "--jobs", "2",
         "--out", str(tmp_path / "figs"), "--record", str(record)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    first, second = out.index("######## lesson 00"), out.index("######## lesson 04")
    assert first < second and "== 00_tensors_autodiff_gradcheck: measured ==" in out[:second]
    assert (tmp_path / "figs" / "index.html").is_file()
    doc = json.loads(record.read_text())
    assert doc["quick"] and "--jobs 2" in doc["command"]
    assert set(doc["lessons"]) == {LESSONS[0][0] + "_" + LESSONS[0][1],
                                   next(f"{n}_{m}" for n, m, _ in LESSONS if n == "04")}
    for entry in doc["lessons"].values():
        assert entry["checks"] or entry["seconds"] > 0


def test_tour_rejects_zero_jobs():
    proc = subprocess.run([sys.executable, "-m", "minigan", "tour", "--jobs", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "--jobs must be at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr
