"""Run every lesson in order and write figures/index.html, a gallery of figures and numbers."""
from __future__ import annotations

import time


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true", help="short runs of every lesson")
    parser.add_argument("--device", default=None, help="cpu or cuda")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", default=None,
                        help="comma-separated lesson numbers to run (default: all)")


def run(args):
    from minigan.commands.lesson import lesson_argv, run_lesson

    from . import course
    lessons = course.discover()
    if args.only:
        wanted = {int(k) for k in args.only.split(",")}
        lessons = [lesson for lesson in lessons if int(lesson[0]) in wanted]
    if not lessons:
        raise ValueError("no lessons to run")
    args.out = None
    times, failed = {}, []
    for num, name, path in lessons:
        print(f"\n######## lesson {num}: {name} ########", flush=True)
        t0 = time.perf_counter()
        code = run_lesson(path, lesson_argv(args))
        times[f"{num}_{name}"] = time.perf_counter() - t0
        if code != 0:
            failed.append(f"{num}_{name}")
    page = write_gallery(course.FIGURES_DIR, lessons)
    print("\n######## tour done ########")
    for k, t in times.items():
        print(f"  {k:<40s} {t:7.1f} s" + ("   FAILED" if k in failed else ""))
    print(f"  total {sum(times.values()):.1f} s; gallery: {page}")
    return 1 if failed else 0


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
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td>"
                       f"<td>{html.escape(course._fmt_value(v))}</td>"
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

