"""An XMP sidecar edited in place: only the properties fluxcull owns change, every other byte stays.

`Sidecar.parse(data)` reads a sidecar twice, independently: defusedxml (no DTD, no entities, no
external references: a hostile file is refused) says what the owned properties hold, and a small
scanner over the text finds where they are: an attribute of a top-level rdf:Description, or a simple
child element of one. The two must agree, or the file is refused. `Sidecar.with_values` then edits
those spots (a value replaced, a property removed, new attributes added to the first rdf:Description
with any namespace declaration they need) and checks the result parses back to what was intended.
`Sidecar.new()` starts from fluxcull's own empty sidecar. A refused file raises `SidecarRefused`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml
import defusedxml.ElementTree as DET

from fluxcull import __version__
from fluxcull.errors import UserError
from fluxcull.interop.xmp_fields import OWNED, PREFIXES, RDF_NS, Prop

MAX_SIDECAR_BYTES = 16 * 1024 * 1024
BOM = b"\xef\xbb\xbf"

NEW_SIDECAR = (
    f'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="fluxcull {__version__}">\n'
    f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
    '  <rdf:Description rdf:about=""\n'
    + "".join(f'    xmlns:{p}="{uri}"\n' for uri, p in PREFIXES.items()).rstrip("\n") + "/>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
)

_NAME = r"[^\s/>=<!?\"']+"
_START = re.compile(r"<(" + _NAME + ")")
_END = re.compile(r"</(" + _NAME + r")\s*>")
_ATTR = re.compile(r"(\s+)(" + _NAME + r")\s*=\s*(\"[^\"]*\"|'[^']*')")
_TAG_CLOSE = re.compile(r"\s*(/?)>")


_NEW: "Sidecar | None" = None


class SidecarRefused(UserError):
    """A sidecar fluxcull will not touch; the message says why."""


@dataclass
class _Spot:
    kind: str            # "attr" or "elem"
    start: int           # attr: its leading whitespace; elem: the whitespace before its start tag
    end: int             # end of the attribute / of the end tag
    value_start: int = 0  # attr: inside the quotes; elem: the text between the tags
    value_end: int = 0
    quote: str = '"'
    qname: str = ""
    empty: bool = False  # elem written as <p:X/>


@dataclass
class _Scan:
    spots: dict[Prop, _Spot] = field(default_factory=dict)
    desc_at: int | None = None         # where new attributes go: after the first Description's last attribute
    desc_indent: str = " "
    desc_ns: dict[str, str] = field(default_factory=dict)  # prefix -> URI in scope there
    rdf_close: int | None = None       # start of </rdf:RDF> (a Description is added there when none exists)
    rdf_ns: dict[str, str] = field(default_factory=dict)


def _resolve(name: str, ns: dict[str, str], attribute: bool = False) -> tuple[str | None, str]:
    prefix, _, local = name.rpartition(":")
    if not prefix:
        return (None if attribute else ns.get("")), local
    return ns.get(prefix), local


def _refuse(reason: str):
    raise SidecarRefused(reason)


def _scan(text: str) -> _Scan:
    """Where the owned properties and the first top-level rdf:Description are in the text."""
    out = _Scan()
    stack: list[tuple[str, dict[str, str], str, int]] = []  # (qname, namespaces, role, start)
    pos = 0
    newline = "\r\n" if "\r\n" in text else "\n"
    while True:
        i = text.find("<", pos)
        if i < 0:
            break
        for opener, closer in (("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>")):
            if text.startswith(opener, i):
                j = text.find(closer, i)
                if j < 0:
                    _refuse("unterminated markup")
                pos = j + len(closer)
                break
        else:
            if text.startswith("<!", i):
                _refuse("it holds a document type declaration")
            if text.startswith("</", i):
                m = _END.match(text, i)
                if not m or not stack or stack[-1][0] != m.group(1):
                    _refuse("its tags could not be followed")
                name, ns, role, start = stack.pop()
                if role.startswith("prop:"):
                    spot = out.spots[_prop_key(role)]
                    spot.end, spot.value_end = m.end(), i
                elif role == "rdf":
                    out.rdf_close = i
                pos = m.end()
                continue
            pos = _start_tag(text, i, stack, out, newline)
    if stack:
        _refuse("its tags could not be followed")
    return out


def _prop_key(role: str) -> Prop:
    uri, _, local = role[len("prop:"):].rpartition("|")
    return uri, local


def _start_tag(text: str, i: int, stack: list, out: _Scan, newline: str) -> int:
    m = _START.match(text, i)
    if not m:
        _refuse("its tags could not be followed")
    name = m.group(1)
    attrs = []
    p = m.end()
    while (a := _ATTR.match(text, p)) is not None:
        attrs.append(a)
        p = a.end()
    close = _TAG_CLOSE.match(text, p)
    if not close:
        _refuse("its tags could not be followed")
    ns = dict(stack[-1][1]) if stack else {}
    for a in attrs:
        aname = a.group(2)
        if aname == "xmlns" or aname.startswith("xmlns:"):
            ns[aname[6:]] = _unescape(a.group(3)[1:-1])
    uri, local = _resolve(name, ns)
    parent = stack[-1][2] if stack else ""
    role = "other"
    if (uri, local) == (RDF_NS, "RDF") and "rdf" not in {s[2] for s in stack}:
        role = "rdf"
        out.rdf_ns = ns
    elif parent == "rdf" and (uri, local) == (RDF_NS, "Description"):
        role = "desc"
        for a in attrs:
            key = _resolve(a.group(2), ns, attribute=True)
            if key in OWNED:
                out.spots[key] = _Spot("attr", a.start(), a.end(), a.start(3) + 1, a.end(3) - 1, a.group(3)[0])
        if out.desc_at is None:
            out.desc_at = attrs[-1].end() if attrs else m.end()
            ws = attrs[-1].group(1) if attrs else " "
            out.desc_indent = newline + ws.rpartition("\n")[2] if "\n" in ws else " "
            out.desc_ns = ns
    elif parent == "desc" and (uri, local) in OWNED:
        lead = len(text[:i]) - len(text[:i].rstrip())
        role = f"prop:{uri}|{local}"
        out.spots[(uri, local)] = _Spot("elem", i - lead, close.end(), close.end(), close.end(), qname=name,
                                        empty=bool(close.group(1)))
    if not close.group(1):
        stack.append((name, ns, role, i))
    return close.end()


_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


def _unescape(s: str) -> str:
    if "&" not in s:
        return s
    s = re.sub(r"&(lt|gt|quot|apos);", lambda m: _ENTITIES[m.group(0)], s)
    s = re.sub(r"&#x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)), s)
    s = re.sub(r"&#([0-9]+);", lambda m: chr(int(m.group(1))), s)
    return s.replace("&amp;", "&")


def _escape(value: str, quote: str | None) -> str:
    s = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote is not None:
        s = s.replace(quote, "&quot;" if quote == '"' else "&apos;")
        s = s.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return s


def _owned_values(data: bytes) -> dict[Prop, str]:
    """The owned properties' values, read by defusedxml alone (a hostile or odd file is refused)."""
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise SidecarRefused(f"it holds a DTD, entity declarations or external references ({type(exc).__name__}): "
                             "such a file can be hostile") from None
    except ET.ParseError as exc:
        raise SidecarRefused(f"it is not well-formed XML ({exc})") from None
    rdfs = [root] if root.tag == f"{{{RDF_NS}}}RDF" else list(root.iter(f"{{{RDF_NS}}}RDF"))
    if len(rdfs) != 1:
        _refuse("it holds no rdf:RDF element: not an XMP sidecar" if not rdfs else "it holds several rdf:RDF elements")
    values: dict[Prop, str] = {}
    owned = {f"{{{u}}}{n}": (u, n) for u, n in OWNED}
    for desc in rdfs[0].findall(f"{{{RDF_NS}}}Description"):
        found = [(owned[k], v) for k, v in desc.attrib.items() if k in owned]
        for child in desc:
            if child.tag in owned:
                if len(child) or any(not k.startswith("{http://www.w3.org/XML/1998/namespace}") for k in child.attrib):
                    _refuse(f"its {child.tag} is not a simple value")
                found.append((owned[child.tag], child.text or ""))
        for prop, value in found:
            if prop in values:
                _refuse(f"{PREFIXES[prop[0]]}:{prop[1]} appears twice")
            values[prop] = value
    return values


class Sidecar:
    """One sidecar's bytes, what its owned properties hold (`current`), and where they are."""

    def __init__(self, data: bytes, current: dict[Prop, str], scan: _Scan, text: str, bom: bool):
        self.data, self.current, self._scan, self._text, self._bom = data, current, scan, text, bom

    @classmethod
    def new(cls) -> "Sidecar":
        """fluxcull's own empty sidecar (parsed once: with_values leaves a Sidecar as it is)."""
        global _NEW
        if _NEW is None:
            _NEW = cls.parse(NEW_SIDECAR.encode("utf-8"))
        return _NEW

    @classmethod
    def parse(cls, data: bytes) -> "Sidecar":
        if len(data) > MAX_SIDECAR_BYTES:
            _refuse(f"it is larger than {MAX_SIDECAR_BYTES // 2**20} MB: not a sidecar")
        bom = data.startswith(BOM)
        try:
            text = data[len(BOM) if bom else 0:].decode("utf-8")
        except UnicodeDecodeError:
            raise SidecarRefused("it is not UTF-8 text") from None
        current = _owned_values(data)
        scan = _scan(text)
        if set(scan.spots) != set(current):
            _refuse("its properties could not be located unambiguously")
        if scan.desc_at is None and scan.rdf_close is None:
            _refuse("its rdf:RDF element is empty-tagged: nowhere to add a property")
        return cls(data, current, scan, text, bom)

    def with_values(self, values: dict[Prop, str | None]) -> bytes:
        """The sidecar's bytes with these owned properties set (None: removed); the rest untouched."""
        edits: list[tuple[int, int, str]] = []
        added: list[tuple[Prop, str]] = []
        for prop in OWNED:
            if prop not in values or values[prop] == self.current.get(prop):
                continue
            new, spot = values[prop], self._scan.spots.get(prop)
            if spot is None:
                added.append((prop, new))  # type: ignore[arg-type]
            elif new is None:
                edits.append((spot.start, spot.end, ""))
            elif spot.kind == "attr":
                edits.append((spot.value_start, spot.value_end, _escape(new, spot.quote)))
            elif spot.empty:
                lead = self._text[spot.start:self._text.index("<", spot.start)]
                edits.append((spot.start, spot.end, f"{lead}<{spot.qname}>{_escape(new, None)}</{spot.qname}>"))
            else:
                edits.append((spot.value_start, spot.value_end, _escape(new, None)))
        if added:
            edits.append(self._additions(added))
        if not edits:
            return self.data
        text = self._text
        for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            text = text[:start] + repl + text[end:]
        out = (BOM if self._bom else b"") + text.encode("utf-8")
        expected = {p: v for p, v in {**self.current, **values}.items() if v is not None}
        if _owned_values(out) != expected:  # never write what does not read back as intended
            _refuse("it could not be edited safely")
        return out

    def _additions(self, added: list[tuple[Prop, str]]) -> tuple[int, int, str]:
        s = self._scan
        ns = dict(s.desc_ns if s.desc_at is not None else s.rdf_ns)
        decls, attrs = [], []
        for (uri, local), value in added:
            prefix = next((p for p, u in ns.items() if u == uri and p), None)
            if prefix is None:
                base = prefix = PREFIXES[uri]
                n = 1
                while prefix in ns:
                    prefix, n = f"{base}{n}", n + 1
                ns[prefix] = uri
                decls.append(f'xmlns:{prefix}="{_escape(uri, chr(34))}"')
            attrs.append(f'{prefix}:{local}="{_escape(value, chr(34))}"')
        if s.desc_at is not None:
            return s.desc_at, s.desc_at, "".join(s.desc_indent + a for a in decls + attrs)
        rdf = next((p for p, u in s.rdf_ns.items() if u == RDF_NS and p), None)
        if rdf is None:  # rdf:RDF in a default namespace: the attribute rdf:about needs a prefix
            rdf = "rdf" if "rdf" not in ns else "rdf0"
            decls.insert(0, f'xmlns:{rdf}="{RDF_NS}"')
        desc = f'<{rdf}:Description {rdf}:about=""' + "".join(" " + a for a in decls + attrs) + "/>"
        line_start = self._text.rfind("\n", 0, s.rdf_close) + 1
        indent = self._text[line_start:s.rdf_close]
        if indent.strip():
            return s.rdf_close, s.rdf_close, desc  # type: ignore[return-value]
        newline = "\r\n" if "\r\n" in self._text else "\n"
        return s.rdf_close, s.rdf_close, f" {desc}{newline}{indent}"  # type: ignore[return-value]
