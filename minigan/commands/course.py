"""The frame every lesson shares: its flags, where it writes, and what it reports.

A lesson is a percent-format script ``lessons/NN_name.py`` (``# %%`` cells: it runs as a
script and opens as a notebook). It starts with ``args = course.lesson_args(__doc__)`` and ends
with ``course.report(args, numbers, figures)``, which writes ``summary.json`` beside the
figures so that ``python -m minigan tour`` can build its gallery.

In between, a lesson tells its story in the terminal:

- ``course.section(args, title, text)``: what the next cell does, in a sentence or two;
- ``course.check(args, name, value, reference=..., ok=...)``: one measured number, printed
  once, beside what it should be compared with (the analytic value, the real-data baseline,
  the paper's number) and a verdict; the same line goes to the gallery;
- ``course.save_figure`` prints where the figure went.

A ``--quick`` run is for tests and a first look: where its sizes are too small for the
phenomenon, ``check(..., quick_note=...)`` says so next to the verdict and shows the full run's
number for the same check, read from ``docs/results/tour.json`` (the numbers of the last
recorded full tour, ``python -m minigan tour --record docs/results/tour.json``).

Prose that quotes a number of the lesson's own full run writes it as ``VALUE [#check name]``
(e.g. ``8/8 [#ring8 modes, wgan]``): ``prose_quotes`` finds them, and the test suite compares
each with the recorded full run, so that the text and the runs cannot drift apart.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import time

from ..serialization import output_dir, save_json

__all__ = ["LESSONS_DIR", "FIGURES_DIR", "RESULTS_FILE", "lesson_args", "report", "discover",
           "find_lesson", "summary_line", "section", "check", "save_figure", "Check",
           "recorded_checks", "prose_quotes", "format_value"]

ROOT = pathlib.Path(__file__).resolve().parents[2]      # the repository: lessons/, figures/
LESSONS_DIR = ROOT / "lessons"
FIGURES_DIR = ROOT / "figures"
RESULTS_FILE = ROOT / "docs" / "results" / "tour.json"     # the last recorded full tour
_LESSON_FILE = re.compile(r"^(\d\d)_(\w+)\.py$")


def discover():
    """``[(number, name, path)]`` of the lesson scripts, in teaching order."""
    if not LESSONS_DIR.is_dir():
        return []
    found = []
    for p in sorted(LESSONS_DIR.iterdir()):
        m = _LESSON_FILE.match(p.name)
        if m:
            found.append((m.group(1), m.group(2), p))
    return found


def find_lesson(key):
    """A lesson by number (``7`` or ``07``) or name; a clear error listing them otherwise."""
    key = str(key).strip()
    for num, name, path in discover():
        if key.isdigit() and int(key) == int(num) or key in (name, f"{num}_{name}", path.stem):
            return num, name, path
    known = ", ".join(f"{n} {name}" for n, name, _ in discover()) or "none found"
    raise ValueError(f"no lesson {key!r}; the lessons are: {known}")


def summary_line(path):
    """The first line of a lesson's docstring (its one-line summary)."""
    import ast
    doc = ast.get_docstring(ast.parse(pathlib.Path(path).read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def lesson_args(doc, argv=None, defaults=None, blas_threads=None):
    """Parse the flags every lesson takes: --quick, --device, --seed, --out.

    ``blas_threads=1`` keeps BLAS on one thread for the rest of the lesson (via threadpoolctl,
    when installed): lessons that train tiny MLPs multiply matrices of a few thousand numbers,
    and waking BLAS threads for each costs more than the maths (several times slower on a
    busy 2-core machine).
    """
    caller = pathlib.Path(_caller_file())
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a short run (seconds) that exercises everything; for tests and CI")
    parser.add_argument("--device", default=os.environ.get("MINIGAN_DEVICE", "cpu"),
                        help="cpu or cuda (default: $MINIGAN_DEVICE or cpu)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (runs repeat exactly)")
    parser.add_argument("--out", default=None,
                        help=f"output folder (default: figures/{caller.stem}/)")
    for name, kwargs in (defaults or {}).items():
        parser.add_argument(name, **kwargs)
    args = parser.parse_args(argv)
    if "matplotlib" not in __import__("sys").modules and not os.environ.get("DISPLAY"):
        os.environ.setdefault("MPLBACKEND", "Agg")   # headless: write files, open no window
    args.out = pathlib.Path(args.out) if args.out else FIGURES_DIR / caller.stem
    output_dir(args.out)
    args.name = caller.stem
    args.started = time.perf_counter()
    args.blas_limit = None
    args.checks = []
    if blas_threads is not None:
        from minigan import backend
        args.blas_limit = backend.blas_threads(blas_threads)   # holds until the lesson ends
    import minigan
    minigan.manual_seed(args.seed)
    if args.device != "cpu":
        os.environ["MINIGAN_DEVICE"] = args.device
    return args


def _caller_file():
    import inspect
    for frame in inspect.stack()[2:]:
        if frame.filename != __file__:
            return frame.filename
    return "lesson"


def save_figure(fig, args, name, dpi=100):
    """Lay out ``fig``, write it to ``args.out / name`` and close it (figures pile up in
    memory otherwise over a 19-lesson tour). Returns the path, for ``report``'s list."""
    from ..plots.toys import _save
    path = _save(fig, args.out / name, dpi=dpi)
    print(f"  figure: {path}", flush=True)
    return path


def section(args, title, text=""):
    """Print a section heading and what it does (wrapped to 96 columns)."""
    import textwrap
    print(f"\n## {title}", flush=True)
    for para in str(text).strip().split("\n\n"):
        if para.strip():
            print(textwrap.fill(" ".join(para.split()), 96, initial_indent="  ",
                                subsequent_indent="  "), flush=True)


class Check(dict):
    """One measured number with its reference and verdict (a dict, so it goes to JSON)."""

    def line(self):
        text = f"  {self['name']}: {format_value(self['value'], self.get('fmt'))}"
        if self.get("reference") is not None:
            text += f"   (reference: {self['reference']})"
        if self.get("verdict"):
            text += f"  -> {self['verdict']}"
        if self.get("quick_note"):
            text += f"\n      quick run: {self['quick_note']}"
        return text


def check(args, name, value, reference=None, ok=None, fmt=None, good="as expected",
          bad="NOT as expected", quick_note=None, full=None):
    """Print one measured number next to its reference, with a verdict, and keep it for
    ``report``. ``reference`` is text ("-log 4 = -1.3863", "real digits: 0.97"); ``ok`` is
    the lesson's test of the number (True/False), or None for a number without a pass mark.
    On a ``--quick`` run ``quick_note`` (e.g. "too short for the collapse to happen") and
    ``full`` (the full run's number) are printed too, so a quick run never contradicts the
    lesson silently. Returns ``value``."""
    verdict = None if ok is None else (good if ok else bad)
    c = Check(name=name, value=value, reference=reference, ok=None if ok is None else bool(ok),
              verdict=verdict, fmt=fmt)
    if args.quick and (quick_note or full is not None):
        if full is None:
            recorded = recorded_checks(args.name).get(name)
            full = recorded["value"] if recorded else "not recorded yet"
        note = quick_note or "a short run; the lesson's result is the full run's"
        c["quick_note"] = f"{note} (full run: {full})"
    args.checks.append(c)
    print(c.line(), flush=True)
    return value


def format_value(v, fmt=None):
    """A number as the terminal prints it (and as prose quotes it): ``fmt`` if given, else
    four significant digits for floats."""
    if fmt and isinstance(v, (int, float)) and not isinstance(v, bool):
        return format(v, fmt)
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def report(args, numbers=None, figures=(), notes=""):
    """Write ``summary.json`` (numbers, checks, figures, seconds) and print a closing line.

    ``numbers`` not already printed by ``check`` are printed here, once; the checks made with
    ``check`` join the numbers under their own names. The verdicts are counted at the end."""
    seconds = time.perf_counter() - args.started
    figures = [pathlib.Path(f) for f in figures]
    for f in figures:
        if not f.is_file() or f.stat().st_size == 0:
            raise RuntimeError(f"{args.name}: figure {f} was not written")
    checks = list(getattr(args, "checks", []))
    numbers = dict(numbers or {})
    checked = {c["name"] for c in checks}
    print(f"\n== {args.name}: measured ==")
    for k, v in numbers.items():
        if k not in checked:
            print(f"  {k}: {format_value(v)}")
    for c in checks:
        numbers.setdefault(c["name"], c["value"])
    judged = [c for c in checks if c["ok"] is not None]
    verdicts = (f"{sum(c['ok'] for c in judged)} of {len(judged)} checks as expected; "
                if judged else "")
    print(f"  ({verdicts}{seconds:.1f} s{', quick run' if args.quick else ''}; "
          f"figures in {args.out})")
    summary = {"lesson": args.name, "quick": bool(args.quick), "seed": args.seed,
               "seconds": round(seconds, 2), "numbers": numbers, "checks": checks,
               "notes": notes, "figures": [os.path.relpath(f, args.out) for f in figures]}
    save_json(args.out / "summary.json", summary, indent=2, default=float)
    return summary


_RECORDED = {}


def recorded_checks(lesson, path=None):
    """``{check name: {"value": as printed, "ok": verdict}}`` of ``lesson`` (its file stem)
    in the recorded full tour, or ``{}`` when none is recorded."""
    import json
    path = pathlib.Path(path or RESULTS_FILE)
    if path not in _RECORDED:
        try:
            _RECORDED[path] = json.loads(path.read_text())
        except FileNotFoundError:
            _RECORDED[path] = {}
        except ValueError as e:
            raise ValueError(f"{path} is not valid JSON ({e}); restore it from git or "
                             "record a new full tour") from None
    return _RECORDED[path].get("lessons", {}).get(lesson, {}).get("checks", {})


# VALUE [#check name]: a number of the lesson's full run quoted in its prose.
_QUOTE = re.compile(r"(\S+)\s\[#((?:[^\[\]]|\[[^\[\]]*\])+)\]")   # names may hold one [..]


def prose_quotes(path):
    """``[(line number, quoted value, check name)]`` for each ``VALUE [#check name]`` in a
    lesson's source (docstring, comments, markdown cells and section texts alike). Markdown
    emphasis and trailing punctuation around the value are not part of it."""
    found = []
    for i, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        for m in _QUOTE.finditer(line):
            value = m.group(1).strip("*_`(\"'").rstrip(",;:")
            found.append((i, value, " ".join(m.group(2).split())))
    return found
