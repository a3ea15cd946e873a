"""One place for validating numbers and ids that come from people (options, arguments, files).

Numbers must be finite and inside their range; ids are ASCII digits (no Unicode digits, no signs,
no underscores) within SQLite's integer range. Errors are `InvalidValue` naming the option.
"""

from __future__ import annotations

import argparse
import math
import re

from fluxcull.errors import InvalidValue

SQLITE_MAX_INT = 2**63 - 1
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,30}\Z")
_ASCII_FLOAT = re.compile(r"[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,4})?\Z")


def parse_int(text: str, what: str, lo: int | None = None, hi: int | None = SQLITE_MAX_INT) -> int:
    """An integer written in ASCII digits, lo <= value <= hi; else InvalidValue naming `what`."""
    s = str(text).strip()
    if not _ASCII_INT.match(s):
        raise InvalidValue(f"{what} must be a whole number written with the digits 0-9, not {text!r}")
    value = int(s)
    _check_range(value, what, lo, hi)
    return value


def parse_float(text: str, what: str, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False) -> float:
    """A finite decimal number in range (lo excluded when lo_open); else InvalidValue."""
    s = str(text).strip()
    if not _ASCII_FLOAT.match(s):
        raise InvalidValue(f"{what} must be a finite decimal number, not {text!r}")
    value = float(s)
    if not math.isfinite(value):
        raise InvalidValue(f"{what} must be a finite number, not {text!r}")
    if lo_open and lo is not None and value <= lo:
        raise InvalidValue(f"{what} must be more than {lo:g}, not {text}")
    _check_range(value, what, None if lo_open else lo, hi)
    return value


def _check_range(value, what, lo, hi) -> None:
    if lo is not None and value < lo:
        raise InvalidValue(f"{what} must be at least {lo}, not {value}")
    if hi is not None and value > hi:
        raise InvalidValue(f"{what} must be at most {hi}, not {value}")


def parse_id(text: str) -> int | None:
    """A catalog id from ASCII digits within SQLite's range, else None (the text is not an id)."""
    s = str(text)
    if not (s.isascii() and s.isdigit()) or len(s) > 19:
        return None
    value = int(s)
    return value if 0 < value <= SQLITE_MAX_INT else None


def int_option(lo: int | None = None, hi: int | None = SQLITE_MAX_INT):
    """An argparse `type=` for an integer option in [lo, hi] (argparse names the option)."""
    def convert(text: str) -> int:
        try:
            return parse_int(text, "the value", lo, hi)
        except InvalidValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = "integer"
    return convert


def float_option(lo: float | None = None, hi: float | None = None, lo_open: bool = False):
    """An argparse `type=` for a finite float option in its range."""
    def convert(text: str) -> float:
        try:
            return parse_float(text, "the value", lo, hi, lo_open)
        except InvalidValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = "number"
    return convert
