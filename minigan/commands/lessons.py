"""List the lessons with their one-line summaries."""
from __future__ import annotations


def add_arguments(parser):
    pass


def run(args):
    from . import course
    lessons = course.discover()
    if not lessons:
        print(f"no lessons found in {course.LESSONS_DIR}")
        return 1
    for num, name, path in lessons:
        print(f"{num}  {name:<32s} {course.summary_line(path)}")
    print("\nrun one with: python -m minigan lesson NN [--quick]")
    return 0
