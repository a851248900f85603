"""Run one lesson by number or name (e.g. `python -m minigan lesson 07 --quick`)."""
from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("lesson", help="lesson number (07) or name")
    parser.add_argument("--quick", action="store_true", help="a short run for a quick look")
    parser.add_argument("--device", default=None, help="cpu or cuda")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", default=None, help="output folder (default figures/<lesson>/)")


def lesson_argv(args):
    argv = ["--quick"] if args.quick else []
    for flag in ("device", "seed", "out"):
        val = getattr(args, flag, None)
        if val is not None:
            argv += [f"--{flag}", str(val)]
    return argv


def run_lesson(path, argv):
    """Run a lesson script in a fresh interpreter (as a student would) and return its code."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, MPLBACKEND=os.environ.get("MPLBACKEND", "Agg"))
    return subprocess.call([sys.executable, str(path)] + argv, env=env)


def run(args):
    from . import course
    _, _, path = course.find_lesson(args.lesson)
    return run_lesson(path, lesson_argv(args))
