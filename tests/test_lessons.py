"""Every lesson runs in --quick mode, writes non-empty figures and a summary; the CLI that runs
them gives clear errors; the tour's gallery page lists every lesson."""
import json
import subprocess
import sys

import pytest

from minigan.commands import course
from minigan.commands.tour import write_gallery

LESSONS = course.discover()
# figures a lesson's --quick run must write (beyond "some non-empty figure"), by number
EXPECTED_FIGURES = {
    "09": {"modes_over_training.png", "modes_over_training_ema.png"},
    "10": {"jsd_vs_wasserstein_1d.png", "lipschitz_check.png", "rows_ring8.png",
           "rows_grid25.png", "critic_ring8_wgan.png", "critic_ring8_wgan-gp.png",
           "critic_grid25_wgan.png", "critic_grid25_wgan-gp.png"},
    "16": {"attention_G.png", "attention_D.png", "samples_sagan.png", "samples_dcgan.png",
           "receptive_field_and_scores.png"},
    "17": {"domains.png", "cyclegan_AtoB.png", "cyclegan_BtoA.png",
           "training_and_class_kept.png"},
}


@pytest.mark.parametrize("num,name,path", LESSONS, ids=[f"{n}_{m}" for n, m, _ in LESSONS])
def test_lesson_quick(num, name, path, tmp_path):
    out = tmp_path / f"{num}_{name}"
    proc = subprocess.run([sys.executable, str(path), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["numbers"], "a lesson must report what it measured"
    assert summary["figures"], "a lesson must draw its figure"
    for fig in summary["figures"]:
        assert (out / fig).stat().st_size > 1000
    assert EXPECTED_FIGURES.get(num, set()) <= set(summary["figures"])
    assert "measured" in proc.stdout


def test_there_are_lessons_and_each_has_a_summary_line():
    assert LESSONS and all(course.summary_line(p) for _, _, p in LESSONS)


def test_sagan_and_cyclegan_lessons_are_in_the_course():
    """16 and 17 are discovered, so `lessons` lists them and `tour` runs them."""
    names = {num: name for num, name, _ in LESSONS}
    assert names.get("16") == "self_attention_gan" and names.get("17") == "cyclegan"


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "minigan", *argv], capture_output=True,
                          text=True, timeout=120)


def test_cli_lists_lessons():
    proc = _cli("lessons")
    assert proc.returncode == 0 and LESSONS[0][1] in proc.stdout


def test_cli_unknown_lesson_is_a_clear_error():
    proc = _cli("lesson", "99")
    assert proc.returncode != 0 and "no lesson '99'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_bad_flag_and_unknown_command():
    assert _cli("lesson", "00", "--bogus").returncode == 2
    assert _cli("no-such-command").returncode == 2


def test_cli_info():
    from minigan import backend
    proc = _cli("info")
    assert proc.returncode == 0 and f"device: {backend.default_device()}" in proc.stdout


def test_gallery_lists_every_lesson(tmp_path):
    page = write_gallery(tmp_path, LESSONS)
    text = page.read_text()
    for num, name, _ in LESSONS:
        assert f"id='{num}_{name}'" in text


def test_course_check_prints_each_number_once_with_reference_and_verdict(tmp_path, capsys):
    args = course.lesson_args("doc", ["--quick", "--out", str(tmp_path / "00_demo")])
    course.section(args, "1. A section", "What it does.")
    course.check(args, "JSD [nats]", 0.0123, reference="0 at the equilibrium", ok=True)
    course.check(args, "modes covered", 4, reference="1 (collapse)", ok=False,
                 quick_note="too short for the collapse", full="1 of 4")
    summary = course.report(args, {"JSD [nats]": 0.0123, "steps": 10})
    out = capsys.readouterr().out
    assert "## 1. A section" in out and "What it does." in out
    assert out.count("0.0123") == 1 and out.count("steps: 10") == 1
    assert "(reference: 0 at the equilibrium)  -> as expected" in out
    assert "-> NOT as expected" in out and "quick run: too short for the collapse (full run: 1 of 4)" in out
    assert "1 of 2 checks as expected" in out
    assert [c["ok"] for c in summary["checks"]] == [True, False]
    assert summary["numbers"]["modes covered"] == 4
    page = write_gallery(tmp_path, [("00", "demo", LESSONS[0][2])]).read_text()
    assert "0 at the equilibrium" in page and "NOT as expected" in page
