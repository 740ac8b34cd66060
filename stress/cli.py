"""The ``lfstress`` command (also ``python -m stress``).

Each subcommand lives in its own module under ``stress/commands/`` and
exposes ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``
(the exit status). This file only dispatches and turns errors into messages:
a UsageError (bad input) prints one line and exits 2, never a traceback; so
does stdout that cannot be written (closed, a pipe whose reader left, full).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ._version import __version__
from .errors import LfstressError, UsageError

# name -> module; the order is the order of `lfstress --help`.
COMMANDS = {
    "demo": "stress.commands.demo",
    "list": "stress.commands.list",
    "run": "stress.commands.run",
    "build": "stress.commands.build",
    "explore": "stress.commands.explore",
    "replay": "stress.commands.replay",
    "explain": "stress.commands.explain",
    "stress": "stress.commands.stress",
    "bench": "stress.commands.bench",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lfstress", description="Stress-test lock-free data structures, one step at a time.")
    parser.add_argument("--version", action="version", version=f"lfstress {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


class _StdoutError(Exception):
    """Writing the results failed: stdout is closed, a pipe whose reader left, or a full disk."""


class _GuardedStdout:
    """sys.stdout, with a failed write or flush raised as _StdoutError."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _StdoutError(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _StdoutError(exc.strerror or str(exc)) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    if sys.stdout is None:  # started with file descriptor 1 closed
        print("lfstress: stdout is closed: there is nowhere to write the results", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    stdout, sys.stdout = sys.stdout, _GuardedStdout(sys.stdout)
    try:
        status = args._run(args)
        sys.stdout.flush()
        return status
    except _StdoutError as exc:
        # Nothing more can be written there, not even at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        print(f"lfstress {args.command}: cannot write the results to stdout ({exc})", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"lfstress {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except LfstressError as exc:
        print(f"lfstress {args.command}: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        print(f"lfstress {args.command}: out of memory ({exc or 'an allocation failed'})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lfstress: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
