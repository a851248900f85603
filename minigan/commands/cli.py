"""``python -m minigan <command>``: the command line.

Each command lives in its own module under ``minigan/commands/`` with two functions,
``add_arguments(parser)`` and ``run(args) -> int``, and a ``__doc__`` whose first line is its
one-line help and whose whole text (example commands first) is its ``--help``. Adding a
command means adding a module and its name to ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["info", "toy", "images", "superres", "lessons", "lesson", "tour", "lab"]


def _load(name):
    try:
        return importlib.import_module(f"minigan.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"minigan.commands.{name}":
            return None
        raise


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m minigan",
        description="minigan: a from-scratch NumPy/CuPy engine for teaching GANs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = _load(name)
        if mod is None:
            continue
        doc = (mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else ""
        # raw: the docstring's example commands keep their lines (argparse would reflow them)
        p = sub.add_parser(name, help=doc, description=mod.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, FileNotFoundError, NotADirectoryError, TypeError) as exc:
        # A clear one-line error for bad input, not a traceback (set MINIGAN_DEBUG=1 for one).
        import os
        if os.environ.get("MINIGAN_DEBUG"):
            raise
        print(f"minigan {args.command}: error: {exc}", file=sys.stderr)
        return 1
