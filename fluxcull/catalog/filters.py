"""The find filters, declared once, and the `--where` grammar that writes them.

Each `FilterField` says what one filter is called in an expression and in a saved filter (`key`),
its words in the filter bar (`label`, `help`), the kind of value it takes and which `PhotoQuery`
attributes it sets (their SQL is in fluxcull.catalog.queries). `FIELDS` drives the parser below, its
inverse `format_where`, the saved filters (expressions stored in the catalog) and the window's
filter bar, which builds one widget per field with `in_bar` (decision, score band, stars, colour
label and role have theirs in the toolbar above it, fluxcull.ui.toolbar). A new filter is a
PhotoQuery attribute with its clause, and one entry here, for instance

    FilterField("stack", "Stack", NUMBER, ("stack_min", "stack_below"), "Frames in the photo's stack",
                minimum=1, maximum=MAX_STACK, integer=True)

The grammar (README, "Finding photos"): conditions joined by `and` (any letter case), each
`FIELD OP VALUE`:

    camera~fuji and taken>=2024-03-01 and taken<2024-04-01 and decision=keep and score>=0.6 and name~IMG_12

- text fields (`~`: contains, case-insensitive): text, name, camera, lens
- dates (`>=`, `>`, `<`, `<=`, `=`): taken, as YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] on the
  camera's clock; a value is the whole period it names (`taken=2024-03` is March, `taken<=2024-03-31`
  includes that day)
- numbers (`>=`, `>`, `<`, `<=`, `=`): score, from 0 to 1; stars, 0 to 5 (`stars=0`: none); stack, the
  frames of the photo's stack (`stack>=2`: photos in a stack, `stack=1`: photos alone)
- choices (`=`): decision, band, type, role, label (a colour, any, none), rediscover (yes: the originals
  `fluxcull rediscover` proposes at its default score)
- ids (`=`): motif, a stored motif's id (`fluxcull motifs --list`): its photos

A value holding spaces or quotes is written in double quotes (`camera~"GR III"`, `\\"` and `\\\\`
inside). Field names and values never become SQL: a field is looked up in `FIELDS` and every value
is bound as a parameter. A bad expression is an `InvalidValue` (a UserError) naming the bad token.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, fields
from typing import Any

from fluxcull.catalog.queries import ANY_LABEL, FILE_TYPES, MAX_STACK, ROLES, PhotoQuery, iso_seconds
from fluxcull.catalog.ratings import COLOR_LABELS, MAX_STARS, NO_LABEL
from fluxcull.catalog.scores import BAND_DEFS, DECISION_FILTERS
from fluxcull.errors import InvalidValue

TEXT, DATE, NUMBER, CHOICE, ID = "text", "date", "number", "choice", "id"
OPERATORS = {TEXT: ("~",), DATE: (">=", ">", "<", "<=", "="), NUMBER: (">=", ">", "<", "<=", "="), CHOICE: ("=",),
             ID: ("=",)}
MAX_EXPRESSION = 2000  # characters


@dataclass(frozen=True)
class FilterField:
    key: str                                    # its name in expressions and saved filters
    label: str                                  # the filter bar's word
    kind: str                                   # TEXT, DATE, NUMBER, CHOICE or ID (a catalog row's id)
    attrs: tuple[str | None, ...]               # PhotoQuery attributes: (one,), or (low, high) for a range
                                                # ((low,) alone: a lower bound only, e.g. at least N stars)
    help: str                                   # tooltip and documentation
    choices: tuple[tuple[str, str], ...] = ()   # CHOICE: (value, words)
    minimum: float = 0.0                        # NUMBER: the values allowed
    maximum: float = 1.0
    integer: bool = False                       # NUMBER: whole numbers (ratings)
    in_bar: bool = True                         # a widget in the filter bar (decision, band, stars, label, role:
                                                # the toolbar's)


FIELDS: tuple[FilterField, ...] = (
    FilterField("text", "Find", TEXT, ("text",), "Text in the file name or folder, the camera or the lens"),
    FilterField("name", "Name", TEXT, ("name",), "Text in the file name (or the camera's own file name)",
                in_bar=False),
    FilterField("camera", "Camera", TEXT, ("camera",), "Text in the camera's make and model (fuji, GR III)"),
    FilterField("lens", "Lens", TEXT, ("lens",), "Text in the lens name (EXIF LensModel)"),
    FilterField("taken", "Taken", DATE, ("taken_from", "taken_before"),
                "Capture date on the camera's clock: YYYY, YYYY-MM, YYYY-MM-DD (the whole period) or a time"),
    FilterField("score", "Score", NUMBER, ("score_min", "score_below"), "Keeper score, from 0 to 1"),
    FilterField("type", "Type", CHOICE, ("file_type",), "Camera RAW or one image format",
                choices=tuple((t, "RAW" if t == "raw" else t.upper()) for t in FILE_TYPES)),
    FilterField("stack", "Stack", NUMBER, ("stack_min", "stack_below"),
                "Frames in the photo's stack (burst): 2 or more finds the photos in a stack, stack=1 those alone "
                "(a photo not embedded yet has no stack)", minimum=1, maximum=MAX_STACK, integer=True),
    FilterField("stars", "Stars", NUMBER, ("min_rating", "rating_below"),
                "Your stars, 0 to 5: stars>=3 at least three, stars=0 none", maximum=MAX_STARS, integer=True,
                in_bar=False),
    FilterField("label", "Label", CHOICE, ("label",), "Your colour label (any: one of them; none: without)",
                choices=tuple((c, c.capitalize()) for c in COLOR_LABELS) + ((ANY_LABEL, "Any label"),
                                                                            (NO_LABEL, "No label")),
                in_bar=False),
    FilterField("decision", "Decision", CHOICE, ("decision",), "Kept, rejected or undecided",
                choices=tuple((d, {"keep": "Kept", "reject": "Rejected", "none": "Undecided"}[d])
                              for d in DECISION_FILTERS), in_bar=False),
    FilterField("band", "Score band", CHOICE, ("band",), "A keeper-score band",
                choices=tuple((b.name, b.label) for b in BAND_DEFS), in_bar=False),
    FilterField("role", "Role", CHOICE, ("role",), "Originals, keeper archive or inbox",
                choices=tuple((r, r) for r in ROLES), in_bar=False),
    FilterField("motif", "Motif", ID, ("motif",), "The photos of a stored motif, by its id (Library ▸ Motifs, "
                "`fluxcull motifs --list`)", in_bar=False),
    FilterField("rediscover", "Rediscover", CHOICE, ("rediscover",),
                "rediscover=yes: the probable keepers among the originals nobody ever decided on, as `fluxcull "
                "rediscover` proposes them (add score>=0.9 for fewer)", choices=(("yes", "Yes"),), in_bar=False),
)
BY_KEY: dict[str, FilterField] = {f.key: f for f in FIELDS}
ATTRS: tuple[str, ...] = tuple(a for f in FIELDS for a in f.attrs if a)  # every attribute a filter sets
_QUERY_ATTRS = {f.name for f in fields(PhotoQuery)}
assert set(ATTRS) <= _QUERY_ATTRS, "a filter field names an attribute PhotoQuery does not have"

_WS = re.compile(r"\s*")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OP = re.compile(r">=|<=|!=|==|=|~|>|<")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_BARE = re.compile(r'[^\s"]+')
_AND = re.compile(r"and(?=\s|$)", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?)?\Z")


def _bad(reason: str, token: str) -> InvalidValue:
    err = InvalidValue(f"filter expression: {token!r}: {reason}")
    err.token = token  # type: ignore[attr-defined]
    return err


# -- values ------------------------------------------------------------------------------------------
def period(text: str) -> tuple[str, str]:
    """The start and the end (exclusive) of the period a date names, as ISO text ('2024-03' ->
    ('2024-03-01', '2024-04-01')); ValueError when it is no date."""
    m = _DATE.match(text.strip())
    if not m:
        raise ValueError("a date is YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]")
    y, mo, d, h, mi, s = m.groups()
    start = dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0))
    if s is not None:
        end = start + dt.timedelta(seconds=1)
    elif mi is not None:
        end = start + dt.timedelta(minutes=1)
    elif d is not None:
        end = start + dt.timedelta(days=1)
    elif mo is not None:
        end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    else:
        end = dt.datetime(start.year + 1, 1, 1)
    return iso_text(start), iso_text(end)


def iso_text(when: dt.datetime) -> str:
    """'2024-03-01' at midnight, else '2024-03-01T14:30:00'."""
    return when.strftime("%Y-%m-%d") if when.time() == dt.time() else when.strftime("%Y-%m-%dT%H:%M:%S")


def last_day(before: str) -> str:
    """The inclusive end a person reads for an exclusive one: '2024-04-01' -> '2024-03-31'."""
    when = dt.datetime.fromisoformat(before)
    return iso_text(when - (dt.timedelta(days=1) if when.time() == dt.time() else dt.timedelta(seconds=1)))


def _number(f: FilterField, text: str) -> float:
    try:
        value = float(text) if not f.integer else int(text)
    except ValueError:
        raise ValueError(f"{f.key} takes a {'whole ' if f.integer else ''}number") from None
    if not math.isfinite(value) or not f.minimum <= value <= f.maximum:
        raise ValueError(f"{f.key} takes a number from {_range_text(f)}")
    return value


def _range_text(f: FilterField) -> str:
    """'0 to 1', '1 to 1000000'."""
    low, high = (int(f.minimum), int(f.maximum)) if f.integer else (f"{f.minimum:g}", f"{f.maximum:g}")
    return f"{low} to {high}"


def _above(f: FilterField, value: float) -> float:
    """The least value above `value` (the bound of > and <=)."""
    return value + 1 if f.integer else math.nextafter(value, math.inf)


def _bounds(f: FilterField, op: str, text: str) -> tuple[Any, Any]:
    """(low, high) a range condition sets: low inclusive, high exclusive; None where it sets none."""
    if f.kind == DATE:
        start, end = period(text)
        low, high = {">=": (start, None), ">": (end, None), "<": (None, start), "<=": (None, end),
                     "=": (start, end)}[op]
    else:
        v = _number(f, text)
        low, high = {">=": (v, None), ">": (_above(f, v), None), "<": (None, v), "<=": (None, _above(f, v)),
                     "=": (v, _above(f, v))}[op]
    if high is not None and (len(f.attrs) < 2 or f.attrs[1] is None):
        raise ValueError(f"{f.key} takes >= or >")
    if f.integer and ((low is not None and low > f.maximum) or (high is not None and high <= f.minimum)):
        raise ValueError(f"no photo has that: {f.key} is from {_range_text(f)}")
    return low, high


def _later(a, b, f: FilterField):
    if a is None or b is None:
        return b if a is None else a
    return max(a, b, key=iso_seconds) if f.kind == DATE else max(a, b)


def _earlier(a, b, f: FilterField):
    if a is None or b is None:
        return b if a is None else a
    return min(a, b, key=iso_seconds) if f.kind == DATE else min(a, b)


def _choice(f: FilterField, text: str) -> str:
    for value, words in f.choices:
        if text.lower() in (value.lower(), words.lower()):
            return value
    raise ValueError(f"{f.key} is one of {', '.join(v for v, _ in f.choices)}")


# -- parsing -------------------------------------------------------------------------------------------
def parse_where(text: str) -> dict[str, Any]:
    """The PhotoQuery attributes an expression sets (attribute -> value); InvalidValue naming the bad
    token. An empty expression sets nothing."""
    text = str(text)
    if len(text) > MAX_EXPRESSION:
        raise _bad(f"longer than {MAX_EXPRESSION} characters", text[:40] + "…")
    out: dict[str, Any] = {}
    pos = _WS.match(text, 0).end()
    while pos < len(text):
        start = pos
        m = _FIELD.match(text, pos)
        if not m:
            raise _bad("expected a field name (" + ", ".join(BY_KEY) + ")", _token(text, pos))
        key = m.group(0).lower()
        f = BY_KEY.get(key)
        if f is None:
            import difflib  # a misspelt field only

            close = difflib.get_close_matches(key, BY_KEY, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise _bad(f"unknown field ({hint}fields: {', '.join(BY_KEY)})", m.group(0))
        pos = _WS.match(text, m.end()).end()
        m = _OP.match(text, pos)
        if not m or m.group(0) not in OPERATORS[f.kind]:
            raise _bad(f"{f.key} takes {' '.join(OPERATORS[f.kind])}", _token(text, pos) if not m else
                       text[start:m.end()])
        op = m.group(0)
        pos = _WS.match(text, m.end()).end()
        q = _QUOTED.match(text, pos)
        b = None if q else _BARE.match(text, pos)
        if q:
            value = re.sub(r"\\(.)", r"\1", q.group(1))
            pos = q.end()
        elif b:
            value = b.group(0)
            pos = b.end()
        elif text.startswith('"', pos):
            raise _bad("a quote is not closed", text[start:])
        else:
            raise _bad(f"{f.key}{op} needs a value", text[start:pos].strip())
        token = text[start:pos]
        try:
            _apply(out, f, op, value, token)
        except ValueError as exc:
            if isinstance(exc, InvalidValue):
                raise
            raise _bad(str(exc), token) from None
        pos = _WS.match(text, pos).end()
        if pos < len(text):
            a = _AND.match(text, pos)
            if not a:
                raise _bad("conditions are joined by 'and' (there is no 'or' and no brackets)", _token(text, pos))
            pos = _WS.match(text, a.end()).end()
            if pos >= len(text):
                raise _bad("a condition must follow 'and'", text[a.start():])
    return out


def _token(text: str, pos: int) -> str:
    m = re.compile(r"\S+").match(text, pos)
    return m.group(0) if m else text[pos:pos + 20]


def _ident(f: FilterField, text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", text) or int(text) < 1:
        raise ValueError(f"{f.key} takes an id, a whole number from 1")
    return int(text)


def _apply(out: dict[str, Any], f: FilterField, op: str, value: str, token: str) -> None:
    if f.kind in (TEXT, CHOICE, ID):
        if f.kind == TEXT and not value.strip():
            raise ValueError(f"{f.key}~ needs some text")
        v = value if f.kind == TEXT else _choice(f, value) if f.kind == CHOICE else _ident(f, value)
        attr = f.attrs[0]
        if attr in out and out[attr] != v:
            raise _bad(f"{f.key} is given twice", token)
        out[attr] = v
        return
    low, high = _bounds(f, op, value)
    lo_attr, hi_attr = f.attrs[0], f.attrs[1] if len(f.attrs) > 1 else None
    if low is not None:
        out[lo_attr] = _later(out.get(lo_attr), low, f)
    if high is not None and hi_attr:
        out[hi_attr] = _earlier(out.get(hi_attr), high, f)


def query_from(expression: str, /, **base: Any) -> PhotoQuery:
    """A PhotoQuery of the base attributes (role, session_id, sort, status, ...) and an expression; an
    attribute set both ways with different values is refused."""
    values = parse_where(expression)
    for attr, v in values.items():
        if base.get(attr) is not None and base[attr] != v:
            raise InvalidValue(f"filter expression: {attr.replace('_', ' ')} is {v!r} there and {base[attr]!r} "
                               "in the options: give it once")
    return PhotoQuery(**{**base, **values})


def values_of(query: PhotoQuery) -> dict[str, Any]:
    """The filter attributes a query sets (the inverse of PhotoQuery(**values))."""
    return {a: getattr(query, a) for a in ATTRS if getattr(query, a) is not None}


# -- writing -------------------------------------------------------------------------------------------
def quote(value: str) -> str:
    """A value as the grammar reads it back: bare where it can be, else in double quotes."""
    if value and _BARE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(v: float) -> str:
    return f"{v:g}" if float(f"{v:g}") == v else repr(v)


def period_text(low: str | None, high: str | None) -> str | None:
    """The year, month, day, minute or second that `low` to `high` is exactly ('2024-03'), else None."""
    if low is None or high is None:
        return None
    for size in (4, 7, 10, 16, 19):
        text = low[:size]
        try:
            if period(text) == (low, high):
                return text
        except ValueError:
            pass
    return None


def _range_terms(f: FilterField, low, high) -> list[str]:
    if f.kind == DATE:
        exact = period_text(low, high)
        if exact is not None:
            return [f"{f.key}={exact}"]
        return ([f"{f.key}>={low}"] if low is not None else []) + ([f"{f.key}<{high}"] if high is not None else [])
    if f.integer:  # as a person writes whole numbers: stars=3, stars<=2
        if low is not None and high == low + 1:
            return [f"{f.key}={low}"]
        return ([f"{f.key}>={low}"] if low is not None else []) + ([f"{f.key}<={high - 1}"] if high is not None else [])
    terms = []
    if low is not None:  # an exclusive bound written back as > where it is the least value above one
        short = float(f"{low:g}")
        terms.append(f"{f.key}>{_num(short)}" if low != short and _above(f, short) == low else f"{f.key}>={_num(low)}")
    if high is not None:
        short = float(f"{high:g}")
        terms.append(f"{f.key}<={_num(short)}" if high != short and _above(f, short) == high else f"{f.key}<{_num(high)}")
    return terms


def format_where(values: dict[str, Any]) -> str:
    """The expression of these filter attributes (attribute -> value), fields in declaration order;
    parse_where(format_where(v)) == v."""
    terms: list[str] = []
    for f in FIELDS:
        if f.kind in (TEXT, CHOICE, ID):
            v = values.get(f.attrs[0])
            if v is not None:
                terms.append(f"{f.key}{'~' if f.kind == TEXT else '='}{quote(str(v))}")
        else:
            low = values.get(f.attrs[0])
            high = values.get(f.attrs[1]) if len(f.attrs) > 1 and f.attrs[1] else None
            terms += _range_terms(f, low, high)
    return " and ".join(terms)
