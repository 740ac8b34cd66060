"""The one exception hierarchy of lfstress.

``LfstressError`` is the base, never raised itself. Errors caused by what a
person typed or wrote (a scenario, a token, an option) are ``UsageError``s:
the CLI prints their message on one line and exits with status 2.
"""

from __future__ import annotations


class LfstressError(Exception):
    """Base of every error lfstress raises on purpose."""


class UsageError(LfstressError, ValueError):
    """Bad input from a person: a file, key, option or argument. Exit status 2."""


class BuildError(LfstressError):
    """The native extension is missing, stale or was built from other sources."""


class EngineError(LfstressError):
    """The native engine refused a request (a harness bug, not the user's)."""


class CompileError(UsageError):
    """A structure file of the user's own does not compile (or does not load):
    the message carries the compiler's first errors, file:line: message."""
