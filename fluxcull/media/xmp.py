"""Reading culling marks from XMP: a sidecar file's bytes or the packet embedded in a photo.

`read_marks(data)` parses one XMP document and returns its `Marks`: the rating (xmp:Rating, -1 =
rejected, 0 = unrated, 1-5 stars), the pick flag (xmpDM:pick 1 / -1, or xmpDM:good true), the
colour label (xmp:Label, else darktable:colorlabels), digiKam's PickLabel and ColorLabel, and the
keywords (dc:subject, lr:hierarchicalSubject, digiKam:TagsList). Properties are found by namespace
URI, never by prefix, in attribute form (`xmp:Rating="3"` on rdf:Description) and element form,
with rdf:Bag / rdf:Seq / rdf:Alt lists.

Safety: documents over MAX_XMP_BYTES (2 MB) are refused unparsed, and parsing goes through
defusedxml with DTDs forbidden, so no entity is ever expanded (billion laughs), no external entity or
DTD is fetched, nothing touches the network. Anything refused or unreadable raises `XmpError`,
whose message says why in words; a caller reports it and goes on.

`read_embedded(data)` reads the packet embedded in a photo's bytes: a JPEG's APP1 XMP segment, a
TIFF-structured file's XMLPacket tag (TIFF, DNG and most RAWs), else the bytes from `<?xpacket begin`
to `<?xpacket end`. `read_embedded_file(path)` finds the same packet reading as little of the file
as its format allows (for photos already ingested whose packet was never read).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_X = "adobe:ns:meta/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_XMP_DM = "http://ns.adobe.com/xmp/1.0/DynamicMedia/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_LR = "http://ns.adobe.com/lightroom/1.0/"
NS_DIGIKAM = "http://www.digikam.org/ns/1.0/"
NS_DARKTABLE = "http://darktable.sf.net/"
NS_XMP_MM = "http://ns.adobe.com/xap/1.0/mm/"

MAX_XMP_BYTES = 2 * 1024 * 1024   # a sidecar or an embedded packet larger than this is not read
MAX_KEYWORDS = 500                # keywords kept per photo (the first ones, in document order)
MAX_KEYWORD_CHARS = 256
PICKED, REJECTED = "picked", "rejected"
DIGIKAM_PICK_REJECTED, DIGIKAM_PICK_PENDING, DIGIKAM_PICK_ACCEPTED = 1, 2, 3
DARKTABLE_COLOURS = ("Red", "Yellow", "Green", "Blue", "Purple")  # darktable:colorlabels 0-4

_APP1_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
HEAD_BYTES = 1 << 20   # how much of an unchanged photo is read to find its packet (see read_embedded_file)
_TIFF_XMP_TAG = 700
_XMPMETA_RE = re.compile(rb"<([A-Za-z_][\w.-]*:)?xmpmeta[\s>]")


class XmpError(ValueError):
    """An XMP document that was refused or could not be read; str() is the reason in words."""


class XmpUnreadable(XmpError):
    """The file holding the XMP could not be opened or read (permissions, a vanished file)."""


@dataclass(frozen=True)
class Marks:
    rating: int | None = None        # -1 rejected, 0 unrated, 1-5 stars
    pick: str | None = None          # 'picked' / 'rejected'
    label: str | None = None         # colour label as written (xmp:Label), e.g. 'Red'
    color_label: int | None = None   # digiKam:ColorLabel (0 none, 1 red ... 9 white)
    pick_label: int | None = None    # digiKam:PickLabel (0 none, 1 rejected, 2 pending, 3 accepted)
    keywords: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """No culling information at all (XMP's rating 0 and digiKam's label 0 mean 'none')."""
        return (not self.rating and self.pick is None and not self.label and not self.color_label
                and not self.pick_label and not self.keywords)

    def to_dict(self) -> dict:
        return {"rating": self.rating, "pick": self.pick, "label": self.label, "color_label": self.color_label,
                "pick_label": self.pick_label, "keywords": list(self.keywords)}


def read_marks(data: bytes) -> Marks:
    """The marks of one XMP document (a sidecar's bytes or an embedded packet). Raises XmpError."""
    return marks_from(parse(data))


def read_sidecar(path: str | os.PathLike) -> Marks:
    """The marks of a sidecar file, read only when it is at most MAX_XMP_BYTES. Raises XmpError."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_XMP_BYTES:
                raise XmpError(_too_big(size))
            data = f.read(MAX_XMP_BYTES + 1)
    except OSError as exc:
        raise XmpUnreadable(f"cannot read the sidecar: {exc.strerror or exc}") from None
    if len(data) > MAX_XMP_BYTES:  # it grew while being opened
        raise XmpError(_too_big(len(data)))
    return read_marks(data)


def _too_big(size: int) -> str:
    return (f"{size / 1e6:.1f} MB, over the {MAX_XMP_BYTES // (1024 * 1024)} MB cap for XMP: not read "
            "(a real sidecar is a few kilobytes)")


def parse(data: bytes) -> Element:
    """The XMP document's root element, parsed without DTDs or entities. Raises XmpError."""
    from defusedxml import DefusedXmlException, DTDForbidden
    from defusedxml.ElementTree import fromstring

    if len(data) > MAX_XMP_BYTES:
        raise XmpError(_too_big(len(data)))
    data = data.rstrip(b"\x00")  # embedded packets are often NUL-padded to their segment's end
    if not data.strip(b" \t\r\n"):
        raise XmpError("empty: no XMP inside")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise XmpError("it declares a DTD (refused: XMP has none; entities could expand without bound "
                       "or read other files)") from None
    except DefusedXmlException as exc:
        raise XmpError(f"refused: {type(exc).__name__}") from None
    except ParseError as exc:
        raise XmpError(f"not well-formed XML ({exc}); wrong or undeclared encoding, or not XML at all") from None
    except (LookupError, UnicodeError) as exc:
        raise XmpError(f"unreadable text encoding ({exc})") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise XmpError(f"unreadable XML ({type(exc).__name__}: {exc})") from None
    if root.tag != f"{{{NS_RDF}}}RDF" and next(root.iter(f"{{{NS_RDF}}}RDF"), None) is None:
        raise XmpError(f"XML, but not XMP: no rdf:RDF element (the root is {_local(root.tag)})")
    return root


def marks_from(root: Element) -> Marks:
    """The marks of a parsed XMP document (the properties of its top-level rdf:Description elements)."""
    props = _properties(root)
    rating = _rating(_one(props.get((NS_XMP, "Rating"))))
    pick = {"1": PICKED, "-1": REJECTED}.get(_number_text(_one(props.get((NS_XMP_DM, "pick")))))
    if pick is None and (_one(props.get((NS_XMP_DM, "good"))) or "").strip().lower() == "true":
        pick = PICKED
    label = (_one(props.get((NS_XMP, "Label"))) or "").strip()[:MAX_KEYWORD_CHARS] or None
    if label is None:
        colours = [DARKTABLE_COLOURS[int(n)] for n in _many(props.get((NS_DARKTABLE, "colorlabels")))
                   if n.strip() in ("0", "1", "2", "3", "4")]
        label = ", ".join(dict.fromkeys(colours)) or None
    keywords: dict[str, None] = {}
    for key in ((NS_DC, "subject"), (NS_LR, "hierarchicalSubject"), (NS_DIGIKAM, "TagsList")):
        for k in _many(props.get(key)):
            k = k.strip()[:MAX_KEYWORD_CHARS]
            if k and len(keywords) < MAX_KEYWORDS:
                keywords.setdefault(k)
    return Marks(rating=rating, pick=pick, label=label,
                 color_label=_small_int(_one(props.get((NS_DIGIKAM, "ColorLabel"))), 0, 10),
                 pick_label=_small_int(_one(props.get((NS_DIGIKAM, "PickLabel"))), 0, 3),
                 keywords=tuple(keywords))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_WANTED = {f"{{{ns}}}{name}": (ns, name) for ns, name in (
    (NS_XMP, "Rating"), (NS_XMP, "Label"), (NS_XMP_DM, "pick"), (NS_XMP_DM, "good"), (NS_DIGIKAM, "PickLabel"),
    (NS_DIGIKAM, "ColorLabel"), (NS_DIGIKAM, "TagsList"), (NS_DC, "subject"), (NS_LR, "hierarchicalSubject"),
    (NS_DARKTABLE, "colorlabels"))}


def _properties(root: Element) -> dict[tuple[str, str], str | list[str]]:
    """(namespace URI, local name) -> value (text, or the items of an rdf list) of the properties marks
    are made of; the first one wins."""
    props: dict[tuple[str, str], str | list[str]] = {}
    rdfs = [root] if root.tag == f"{{{NS_RDF}}}RDF" else root.iter(f"{{{NS_RDF}}}RDF")
    for rdf in rdfs:
        for desc in rdf.findall(f"{{{NS_RDF}}}Description"):
            for k, v in desc.attrib.items():
                key = _WANTED.get(k)
                if key is not None:
                    props.setdefault(key, v)
            for child in desc:
                key = _WANTED.get(child.tag)
                if key is not None:
                    props.setdefault(key, _value(child))
    return props


def _value(el: Element) -> str | list[str]:
    for container in el:
        if container.tag in (f"{{{NS_RDF}}}Bag", f"{{{NS_RDF}}}Seq", f"{{{NS_RDF}}}Alt"):
            return [li.text or "" for li in container if li.tag == f"{{{NS_RDF}}}li"]
    return el.text or ""


def _one(v) -> str | None:
    if isinstance(v, list):
        return v[0] if v else None
    return v


def _many(v) -> list[str]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _number_text(s: str | None) -> str | None:
    """'1', '-1', '3' from '1', ' -1.0 ', '3.00'; None when it is not an integral number."""
    if s is None:
        return None
    try:
        f = float(s.strip())
    except ValueError:
        return None
    return str(int(f)) if f.is_integer() else None


def _rating(s: str | None) -> int | None:
    n = _number_text(s)
    return int(n) if n is not None and -1 <= int(n) <= 5 else None


def _small_int(s: str | None, lo: int, hi: int) -> int | None:
    n = _number_text(s)
    return int(n) if n is not None and lo <= int(n) <= hi else None


# -- the packet embedded in a photo ------------------------------------------------------------------
def find_packet(data: bytes) -> bytes | None:
    """The XMP packet embedded in a photo's bytes, or None when it has none. Raises XmpError for a
    packet over the cap."""
    if data[:2] == b"\xff\xd8":
        return _jpeg_scan(data)[0]
    if data[:4] in _TIFF_MAGIC:
        ref = _tiff_ref(data)
        if ref is not None:
            return data[ref[0]:ref[0] + ref[1]]
    return _search_packet(data)


def read_embedded(data: bytes) -> Marks | None:
    """The marks of the packet embedded in a photo's bytes (None when it has no packet). Raises XmpError."""
    packet = find_packet(data)
    return None if packet is None else read_marks(packet)


def read_embedded_file(path: str | os.PathLike) -> Marks | None:
    """The marks of the packet embedded in a photo file, read without reading the whole file where
    the format says where the packet is: a JPEG's segments before its image data, a TIFF's IFD0 tag;
    other formats are searched in their first HEAD_BYTES. Raises XmpError (XmpUnreadable when the
    file cannot be read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            if head[:2] == b"\xff\xd8":
                packet, decided = _jpeg_scan(head)
                if not decided and len(head) == HEAD_BYTES:  # metadata segments beyond the head: read on
                    packet = _jpeg_scan(head + f.read())[0]
            elif head[:4] in _TIFF_MAGIC and (ref := _tiff_ref(head)) is not None:
                f.seek(ref[0])
                packet = f.read(ref[1])
            else:
                packet = _search_packet(head)
    except OSError as exc:
        raise XmpUnreadable(f"cannot read the file: {exc.strerror or exc}") from None
    return None if packet is None else read_marks(packet)


def _jpeg_scan(data: bytes) -> tuple[bytes | None, bool]:
    """(the APP1 XMP segment's packet or None, whether that is certain: False when the metadata
    segments run past the end of `data`)."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None, True
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no more metadata
            return None, True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2:
            return None, True
        if i + 2 + length > n:
            return None, False
        if marker == 0xE1 and data.startswith(_APP1_XMP, i + 4):
            return data[i + 4 + len(_APP1_XMP):i + 2 + length], True
        i += 2 + length
    return None, False


def _tiff_ref(data: bytes) -> tuple[int, int] | None:
    """(offset, length) of IFD0's XMLPacket tag (700) in a TIFF-structured file (TIFF, DNG, CR2, NEF,
    ARW, ...), None when IFD0 (read from `data`) has none."""
    end = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(end + "I", data, 4)
        (count,) = struct.unpack_from(end + "H", data, ifd)
        for k in range(min(count, 4096)):
            tag, typ, n, value = struct.unpack_from(end + "HHII", data, ifd + 2 + 12 * k)
            if tag == _TIFF_XMP_TAG and typ in (1, 7) and n > 4:  # BYTE or UNDEFINED, stored at an offset
                if n > MAX_XMP_BYTES:
                    raise XmpError(_too_big(n))
                return value, n
    except struct.error:
        return None
    return None


def _search_packet(data: bytes) -> bytes | None:
    """The bytes from `<?xpacket begin` to the end of `<?xpacket end...?>`, else an xmpmeta element."""
    start = data.find(b"<?xpacket begin")
    if start >= 0:
        stop = data.find(b"<?xpacket end", start)
        close = data.find(b"?>", stop) if stop >= 0 else -1
        if close >= 0:
            return data[start:close + 2]
    m = _XMPMETA_RE.search(data)
    if m is None:
        return None
    prefix = m.group(1) or b""
    stop = data.find(b"</" + prefix + b"xmpmeta>", m.start())
    return data[m.start():stop + len(prefix) + 10] if stop >= 0 else None
