"""Run every lesson and write figures/index.html, a gallery of figures and numbers.

Lessons are separate scripts, so the tour runs ``--jobs`` of them at once, each in its own
interpreter with one BLAS thread (on a 2-core machine two single-threaded lessons finish
sooner than one lesson on two threads: most of them multiply small matrices, where waking a
second thread costs more than it saves). Each lesson's output is kept and printed whole, in
the course's order, when it is done. ``--record FILE`` keeps the tour's numbers (every
lesson's checks, as printed), its times and the machine: ``docs/results/tour.json`` is the
record the lessons' prose is tested against.
"""
from __future__ import annotations

import os
import time


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true", help="short runs of every lesson")
    parser.add_argument("--device", default=None, help="cpu or cuda")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", default=None,
                        help="comma-separated lesson numbers to run (default: all)")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="lessons run at once, one BLAS thread each (default: the number "
                             f"of CPU cores, at most 4; here {default_jobs()})")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="where the figures and the gallery go (default: figures/); "
                             "each lesson writes DIR/NN_name/")
    parser.add_argument("--record", default=None, metavar="FILE",
                        help="write the tour's numbers, times and machine to FILE (JSON)")


def default_jobs():
    return max(1, min(4, os.cpu_count() or 1))


def run(args):
    from . import course
    lessons = course.discover()
    if args.only:
        wanted = {int(k) for k in args.only.split(",")}
        lessons = [lesson for lesson in lessons if int(lesson[0]) in wanted]
    if not lessons:
        raise ValueError("no lessons to run")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    import pathlib
    figures_dir = pathlib.Path(args.out) if args.out else course.FIGURES_DIR
    args.out = None         # each lesson gets its own folder under figures_dir
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    results = run_lessons(lessons, args, figures_dir)
    wall = time.perf_counter() - t0
    page = write_gallery(figures_dir, lessons)
    failed = [k for k, r in results.items() if r["code"] != 0]
    print("\n######## tour done ########")
    for k, r in results.items():
        print(f"  {k:<40s} {r['seconds']:7.1f} s" + ("   FAILED" if k in failed else ""))
    print(f"  {len(results)} lessons, {args.jobs} at a time: {wall:.1f} s wall "
          f"({sum(r['seconds'] for r in results.values()):.1f} s of lessons); gallery: {page}")
    if args.record:
        path = record(args.record, lessons, results, args, wall, load_before, figures_dir)
        print(f"  recorded: {path}")
    return 1 if failed else 0


def run_lessons(lessons, args, figures_dir):
    """Run the lessons ``args.jobs`` at a time; returns ``{stem: {"code", "seconds"}}`` in
    the course's order. The longest lessons (by the recorded tour) start first, so that the
    last one to finish is a short one; output is printed in the course's order."""
    import tempfile

    from .lesson import lesson_argv, run_lesson

    def argv(num, name):
        return lesson_argv(args) + ["--out", str(figures_dir / f"{num}_{name}")]

    if args.jobs == 1:      # as a student runs them: output as it comes
        results = {}
        for num, name, path in lessons:
            print(f"\n######## lesson {num}: {name} ########", flush=True)
            t = time.perf_counter()
            code = run_lesson(path, argv(num, name))
            results[f"{num}_{name}"] = {"code": code, "seconds": time.perf_counter() - t}
        return results
    env = dict(os.environ, MPLBACKEND=os.environ.get("MPLBACKEND", "Agg"),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    recorded = _recorded_seconds()
    order = sorted(lessons, key=lambda lesson: -recorded.get(f"{lesson[0]}_{lesson[1]}", 0.0))
    with tempfile.TemporaryDirectory(prefix="minigan-tour-") as logs:   # removed at the end
        return _run_side_by_side(lessons, order, args.jobs, argv, env, logs)


def _run_side_by_side(lessons, order, jobs, argv, env, logs):
    """Start the lessons in ``order``, ``jobs`` at a time, each writing to its log in
    ``logs``; print each finished lesson's output in the course's order."""
    import subprocess
    import sys
    pending, running, done = list(order), {}, {}
    shown = 0
    while pending or running:
        while pending and len(running) < jobs:
            num, name, path = pending.pop(0)
            log = open(os.path.join(logs, f"{num}_{name}.log"), "w+")
            proc = subprocess.Popen([sys.executable, str(path)] + argv(num, name), env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
            running[f"{num}_{name}"] = (proc, log, time.perf_counter())
        time.sleep(0.2)
        for stem, (proc, log, t) in list(running.items()):
            if proc.poll() is not None:
                log.seek(0)
                done[stem] = {"code": proc.returncode, "seconds": time.perf_counter() - t,
                              "output": log.read()}
                log.close()
                del running[stem]
                print(f"  [{len(done)}/{len(lessons)}] {stem} "
                      f"{'done' if proc.returncode == 0 else 'FAILED'} in "
                      f"{done[stem]['seconds']:.1f} s", flush=True)
        while shown < len(lessons):     # print finished lessons in the course's order
            num, name, _ = lessons[shown]
            stem = f"{num}_{name}"
            if stem not in done:
                break
            print(f"\n######## lesson {num}: {name} ########\n{done[stem].pop('output')}",
                  end="", flush=True)
            shown += 1
    return {f"{num}_{name}": done[f"{num}_{name}"] for num, name, _ in lessons}


def _recorded_seconds():
    import json

    from . import course
    try:
        lessons = json.loads(course.RESULTS_FILE.read_text()).get("lessons", {})
    except (OSError, ValueError):
        return {}
    return {k: v.get("seconds", 0.0) for k, v in lessons.items()}


def record(path, lessons, results, args, wall, load_before, figures_dir):
    """Write the tour's record: per lesson its time and checks (value as printed, verdict,
    reference), the date, the machine, the command. Lessons not run this time keep their
    earlier entry, so ``--only`` can re-record a few."""
    import datetime
    import json
    import pathlib
    import platform

    from ..serialization import save_json
    from . import course
    path = pathlib.Path(path)
    previous = {}
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
        except ValueError:
            previous = {}
    entries = dict(previous.get("lessons", {}))
    command = "python -m minigan tour" + (" --quick" if args.quick else "") + \
        f" --jobs {args.jobs}" + (f" --only {args.only}" if args.only else "")
    for num, name, _ in lessons:
        stem = f"{num}_{name}"
        summary_file = figures_dir / stem / "summary.json"
        if results[stem]["code"] != 0 or not summary_file.is_file():
            continue
        summary = json.loads(summary_file.read_text())
        entries[stem] = {
            "seconds": round(results[stem]["seconds"], 1),
            "recorded": datetime.date.today().isoformat(), "command": command,
            "checks": {c["name"]: {"value": course.format_value(c["value"], c.get("fmt")),
                                   "ok": c.get("ok"), "reference": c.get("reference")}
                       for c in summary.get("checks", [])}}
    doc = {"command": command, "date": datetime.datetime.now().isoformat(timespec="minutes"),
           "quick": bool(args.quick),
           "machine": f"{platform.machine()} {_cpu_name()}, {os.cpu_count()} cores, "
                      f"{platform.system()}, Python {platform.python_version()}",
           "load_average_at_start": load_before, "wall_seconds": round(wall, 1),
           "lessons": {k: entries[k] for k in sorted(entries)}}
    if args.only and previous.get("command"):
        # a few lessons re-recorded: the tour's own fields stay those of the whole tour
        doc.update({k: v for k, v in previous.items() if k != "lessons"})
    save_json(path, doc, indent=1)
    return path


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown CPU"


def write_gallery(figures_dir, lessons):
    """figures/index.html: each lesson's summary line, its figures and its measured numbers."""
    import html
    import json

    from . import course
    parts = ["<!doctype html><meta charset='utf-8'><title>minigan: the course in figures</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
             "img{max-width:100%;border:1px solid #ccc;margin:4px 0}"
             "td{padding:0 1em 0 0}</style><h1>minigan: the course in figures</h1>"]
    for num, name, path in lessons:
        stem = f"{num}_{name}"
        parts.append(f"<h2 id='{stem}'>{num} &middot; {html.escape(name.replace('_', ' '))}</h2>"
                     f"<p>{html.escape(course.summary_line(path))}</p>")
        summary_file = figures_dir / stem / "summary.json"
        if not summary_file.is_file():
            parts.append("<p><em>not run yet (or it failed): no summary.json</em></p>")
            continue
        summary = json.loads(summary_file.read_text())
        checks = {c["name"]: c for c in summary.get("checks", [])}
        fmt = {k: c.get("fmt") for k, c in checks.items()}
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td>"
                       f"<td>{html.escape(course.format_value(v, fmt.get(k)))}</td>"
                       f"{_check_cells(checks.get(k))}</tr>"
                       for k, v in summary.get("numbers", {}).items())
        parts.append(f"<table>{rows}</table><p><small>{summary.get('seconds', '?')} s"
                     f"{' (quick run)' if summary.get('quick') else ''}</small></p>")
        for fig in summary.get("figures", []):
            parts.append(f"<img src='{html.escape(stem + '/' + fig)}' alt='{html.escape(fig)}'>")
    page = figures_dir / "index.html"
    figures_dir.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(parts))
    return page


def _check_cells(c):
    """The reference, the verdict and (quick runs) the note of a lesson's check, as cells."""
    import html
    if not c:
        return ""
    cells = [c.get("reference") or "", c.get("verdict") or "", c.get("quick_note") or ""]
    return "".join(f"<td>{html.escape(str(x))}</td>" for x in cells)

