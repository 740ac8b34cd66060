"""Replay tokens: one short, text-safe string that names an execution exactly.

A token holds everything needed to re-run an execution, byte for byte:

    s   structure            msqueue/naive
    o   options (all)        cleanup=0,tag_bits=16
    i   initial contents     1,2
    p   programs             dequeue|dequeue,enqueue:2,dequeue   (threads split by |)
    x   pool capacity, reuse policy, step cap        32,fifo,5000  (absent: 16,lifo,10000)
    c   choices, run-length  0*7.1*17.0*3            (thread * run length, dot-separated)
    h   trace hash           first 12 hex digits of sha256(trace_text()), then the event count
    sc  scenario name@hash   classic-aba@3f2a9c01    (optional; the programs are carried
                                                      anyway, the hash tells when the
                                                      scenario changed since)
    src structure's C file   /home/me/mpsc.c         (a user's structure: found again from
                                                      any directory, or given with --source)
    sh  what ran             9c1e0f2a77b3,851a977bebcde40d  (the user's file and its headers,
                                                      then lfstress's native sources; a
                                                      built-in: the native sources only.
                                                      Tells "it changed since" apart from
                                                      "not deterministic")

The fields are ``key=value`` lines, compressed with zlib when that is
shorter, then base64url without padding, after the prefix ``lfs1.`` (the
format version). The seed that produced an execution is printed beside its
token, not in it: the token alone fixes the execution.

Decoding never raises anything but UsageError, with a message saying what is
wrong with the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from dataclasses import dataclass
from typing import Sequence

from . import _defaults, _native
from .errors import UsageError
from .target import Target

PREFIX = "lfs1."
_KEYS = ("s", "o", "i", "p", "x", "c", "h", "sc", "src", "sh")
_REQUIRED = ("s", "p", "c")


def trace_hash(trace: str) -> str:
    return hashlib.sha256(trace.encode()).hexdigest()[:12]


def content_hash(*parts: object) -> str:
    """A short stable hash of a scenario's content (its repr, canonicalised)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:8]


def structure_hash(target: Target) -> str | None:
    """What the token's ``sh`` records: the hash of the native sources
    lfstress was built from, preceded for a user's structure by the hash of
    its file as it was built (``file,native``). None: the structure is not
    known here."""
    from . import _native
    from .structures import catalogue, user_structure
    if target.structure not in catalogue():
        return None
    module = _native.stepped()
    native = module.ffi.string(module.lib.lfs_build_source_hash()).decode()
    if target.source is None:
        return native
    info = user_structure(target.structure)
    if info is None or info.source != target.source:
        return None
    from .usercode import loaded
    return f"{loaded(info.build).content_hash},{native}"


@dataclass(frozen=True)
class Token:
    target: Target
    choices: tuple[int, ...]
    trace_hash: str | None = None
    events: int | None = None
    structure_hash: str | None = None     # as recorded (``sh``); None in older tokens

    def encode(self) -> str:
        return encode(self.target, self.choices, trace_hash=self.trace_hash, events=self.events)


# ----------------------------------------------------------------------
def encode_choices(choices: Sequence[int]) -> str:
    runs: list[str] = []
    i = 0
    while i < len(choices):
        j = i
        while j < len(choices) and choices[j] == choices[i]:
            j += 1
        runs.append(f"{choices[i]}*{j - i}" if j - i > 1 else f"{choices[i]}")
        i = j
    return ".".join(runs)


def decode_choices(text: str) -> tuple[int, ...]:
    out: list[int] = []
    if not text:
        return ()
    for run in text.split("."):
        tid_text, _, count_text = run.partition("*")
        if not tid_text.isdigit() or (count_text and not count_text.isdigit()):
            raise UsageError(f"the token's schedule is damaged (bad run {run!r})")
        tid, count = int(tid_text), int(count_text or 1)
        if tid >= _native.limit("LFS_MAX_THREADS") or count < 1 or count > 10_000_000 or len(out) + count > 10_000_000:
            raise UsageError(f"the token's schedule is damaged (run {run!r} out of range)")
        out.extend([tid] * count)
    return tuple(out)


def _program_text(prog) -> str:
    return ",".join(name if arg is None else f"{name}:{arg}" for name, arg in prog)


def encode(target: Target, choices: Sequence[int], *, trace_hash: str | None = None,
           events: int | None = None) -> str:
    fields = {
        "s": target.structure,
        "o": ",".join(f"{k}={v}" for k, v in target.options),
        "i": ",".join(str(v) for v in target.initial),
        "p": "|".join(_program_text(p) for p in target.programs),
        "c": encode_choices(choices),
    }
    if (target.capacity, target.reuse, target.step_cap) != (_defaults.CAPACITY, _defaults.REUSE, _defaults.STEP_CAP):
        fields["x"] = f"{target.capacity},{target.reuse},{target.step_cap}"
    if trace_hash:
        fields["h"] = f"{trace_hash},{events}" if events is not None else trace_hash
    if target.scenario:
        fields["sc"] = f"{target.scenario}@{target.scenario_hash or ''}"
    if target.source:
        fields["src"] = target.source
    built_from = structure_hash(target)
    if built_from:
        fields["sh"] = built_from
    raw = "\n".join(f"{k}={v}" for k, v in fields.items()).encode()
    packed = zlib.compress(raw, 9)
    body = b"z" + packed if len(packed) < len(raw) else b"r" + raw
    return PREFIX + base64.urlsafe_b64encode(body).decode().rstrip("=")


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"the token's {what} is damaged ({text!r} is not an integer)") from None


def decode(token: str) -> Token:
    """Parse a token. Raises UsageError (only) when it is not a valid token."""
    try:
        return _decode(token)
    except UsageError:
        raise
    except Exception as exc:  # any other surprise is still a damaged token
        raise UsageError(f"the replay token is damaged ({type(exc).__name__}: {exc})") from None


def _decode(token: str) -> Token:
    if not isinstance(token, str):
        raise UsageError("a replay token is a string")
    token = token.strip()
    if not token.startswith(PREFIX):
        if token.startswith("lfs") and "." in token:
            raise UsageError(f"this token is format {token.split('.')[0]!r}; this lfstress reads "
                             f"{PREFIX[:-1]!r} tokens")
        raise UsageError(f"not an lfstress replay token: it should start with {PREFIX!r} "
                         "(copy the whole token printed by `lfstress explore`)")
    body = token[len(PREFIX):]
    if not body or any(ch not in _B64 for ch in body):
        raise UsageError("the replay token is damaged: it holds characters that are not base64url "
                         "(was it cut or wrapped when copied?)")
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise UsageError("the replay token is damaged: its base64 is truncated "
                         "(was it cut when copied?)") from None
    if not data or data[:1] not in (b"z", b"r"):
        raise UsageError("the replay token is damaged: it does not start with a known encoding "
                         "(was it altered when copied?)")
    if data[:1] == b"z":
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(data[1:], 1 << 20)
        except zlib.error:
            raw, inflater = b"", None
        if inflater is None or not inflater.eof or inflater.unused_data:
            raise UsageError("the replay token is damaged: it does not decompress, it was probably "
                             "cut or altered when copied (copy the whole token)") from None
    else:
        raw = data[1:]
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise UsageError("the replay token is damaged (not text inside)") from None
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        key, sep, value = line.partition("=")
        if not sep or key not in _KEYS:
            raise UsageError(f"the replay token is damaged (unknown field {key!r})")
        fields[key] = value
    for key in _REQUIRED:
        if key not in fields:
            raise UsageError(f"the replay token is damaged (no field {key!r})")
    family, sep, variant = fields["s"].partition("/")
    if not sep or not family or not variant:
        raise UsageError(f"the token's structure {fields['s']!r} is not family/variant")
    options: list[tuple[str, int]] = []
    if fields.get("o"):
        for item in fields["o"].split(","):
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise UsageError(f"the token's options are damaged ({item!r})")
            options.append((name, _int(value, "options")))
    initial = tuple(_int(v, "initial contents") for v in fields["i"].split(",")) if fields.get("i") else ()
    programs = []
    for prog_text in fields["p"].split("|"):
        prog = []
        for op_text in prog_text.split(",") if prog_text else ():
            name, sep, arg = op_text.partition(":")
            if not name:
                raise UsageError(f"the token's programs are damaged ({op_text!r})")
            prog.append((name, _int(arg, "programs") if sep else None))
        programs.append(tuple(prog))
    max_threads = _native.limit("LFS_MAX_THREADS")
    if not 1 <= len(programs) <= max_threads:
        raise UsageError(f"the token names {len(programs)} threads (1 to {max_threads} allowed)")
    capacity, reuse, step_cap = _defaults.CAPACITY, _defaults.REUSE, _defaults.STEP_CAP
    if fields.get("x"):
        parts = fields["x"].split(",")
        if len(parts) != 3:
            raise UsageError("the token's execution settings are damaged")
        capacity, reuse, step_cap = _int(parts[0], "pool capacity"), parts[1], _int(parts[2], "step cap")
    choices = decode_choices(fields["c"])
    if any(c >= len(programs) for c in choices):
        raise UsageError("the token's schedule names a thread the token's programs do not have")
    th, events = None, None
    if fields.get("h"):
        th, _, ev = fields["h"].partition(",")
        if len(th) != 12 or any(ch not in "0123456789abcdef" for ch in th):
            raise UsageError("the token's trace hash is damaged")
        events = _int(ev, "trace hash") if ev else None
    scenario = scenario_hash = None
    if fields.get("sc"):
        scenario, _, scenario_hash = fields["sc"].partition("@")
    source = fields.get("src") or None
    if source is not None and not source.startswith("/"):
        raise UsageError(f"the token's structure file {source!r} is not an absolute path")
    built_from = fields.get("sh") or None
    if built_from is not None and (len(built_from) > 64 or any(ch not in "0123456789abcdef," for ch in built_from)):
        raise UsageError("the token's structure hash is damaged")
    target = Target(family, variant, tuple(programs), initial, tuple(options), capacity, reuse,
                    step_cap, scenario or None, scenario_hash or None, source)
    return Token(target, choices, th, events, structure_hash=built_from)


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
