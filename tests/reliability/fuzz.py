"""A fuzz corpus generated from ../shared/photos: truncations, bit flips, huge claimed sizes,
special files and hostile names. Used by the quick test (tests/reliability) and the soak
(benchmarks/bench_reliability.py). Nothing is copied into the repository: it is all made in a
temporary folder."""

from __future__ import annotations

import csv
import os
import random
import socket
import struct
import zlib
from pathlib import Path

from fluxcull.media import formats

HOSTILE_NAMES = [
    "line\nbreak.jpg", "-rf.jpg", "--library.jpg", "x'; DROP TABLE photos;--.jpg", "\u202egpj.exe.jpg",
    "caf\u00e9-nfc.jpg", "cafe\u0301-nfd.jpg", "emoji \U0001F4F7.jpg", "tab\there.jpg", "%s%n%x.jpg",
    ("long" * 60)[:240] + ".jpg", " leading space.jpg", "trailing space .jpg", "back\\slash.jpg",
]


def sources(shared: Path, n: int, max_bytes: int = 3 << 20, seed: int = 0) -> list[Path]:
    """Up to n real photos of varied formats, small enough to fuzz quickly."""
    with open(shared / "MANIFEST.tsv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if int(r["size"]) <= max_bytes
                and not r["path"].startswith("broken/") and formats.is_supported(r["path"])]
    by_ext: dict[str, list[Path]] = {}
    for r in rows:
        by_ext.setdefault(os.path.splitext(r["path"])[1].lower(), []).append(shared / r["path"])
    rng = random.Random(seed)
    picked: list[Path] = []
    exts = sorted(by_ext)
    while len(picked) < n and any(by_ext.values()):
        for e in exts:
            if by_ext[e] and len(picked) < n:
                picked.append(by_ext[e].pop(rng.randrange(len(by_ext[e]))))
    return picked


def _huge_jpeg(data: bytes) -> bytes | None:
    for marker in (b"\xff\xc0", b"\xff\xc2", b"\xff\xc1"):
        i = data.find(marker)
        if i > 0 and len(data) > i + 9:
            return data[:i + 5] + struct.pack(">HH", 65500, 65500) + data[i + 9:]
    return None


def _huge_png(data: bytes) -> bytes | None:
    if not data.startswith(b"\x89PNG") or data[12:16] != b"IHDR":
        return None
    ihdr = struct.pack(">II", 0x7FFFFFFF, 0x7FFFFFFF) + data[24:29]
    return data[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + data[33:]


def _huge_tiff(data: bytes) -> bytes | None:
    """Every ImageWidth/ImageLength of the first IFD set to 2^31-1."""
    if data[:4] not in (b"II*\0", b"MM\0*"):
        return None
    end = "<" if data[:2] == b"II" else ">"
    buf = bytearray(data)
    try:
        (ifd,) = struct.unpack_from(end + "I", buf, 4)
        (count,) = struct.unpack_from(end + "H", buf, ifd)
        for k in range(count):
            off = ifd + 2 + 12 * k
            tag, typ = struct.unpack_from(end + "HH", buf, off)
            if tag in (256, 257):
                if typ == 3:
                    struct.pack_into(end + "H", buf, off + 8, 0xFFFF)
                else:
                    struct.pack_into(end + "I", buf, off + 8, 0x7FFFFFFF)
    except struct.error:
        return None
    return bytes(buf)


def make_corpus(shared: Path, dest: Path, n_sources: int = 8, flips: int = 2, seed: int = 0) -> dict[str, int]:
    """Write the corpus into dest; returns counts by kind."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    def put(kind: str, name: str, data: bytes) -> None:
        (dest / name).write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1

    for i, src in enumerate(sources(shared, n_sources, seed=seed)):
        data = src.read_bytes()
        ext = src.suffix.lower()
        for frac in (0.03, 0.5, 0.97):
            put("truncated", f"s{i}-trunc{int(frac * 100)}{ext}", data[: max(1, int(len(data) * frac))])
        for f in range(flips):
            buf = bytearray(data)
            head = min(len(buf), 65536)
            for _ in range(24):
                buf[rng.randrange(head)] ^= 1 << rng.randrange(8)
            put("bit-flipped", f"s{i}-flip{f}{ext}", bytes(buf))
        for maker in (_huge_jpeg, _huge_png, _huge_tiff):
            huge = maker(data)
            if huge is not None:
                put("huge-claimed-size", f"s{i}-huge-{maker.__name__[6:]}{ext}", huge)
        put("wrong-extension", f"s{i}-as.png" if ext != ".png" else f"s{i}-as.jpg", data)
    good = next(p for p in sources(shared, 50, seed=seed) if p.suffix.lower() in (".jpg", ".jpeg")).read_bytes()
    for name in HOSTILE_NAMES:
        put("hostile-name", name, good)
    os.mkfifo(dest / "fifo.jpg")
    (dest / "folder.jpg").mkdir()
    os.symlink("/dev/zero", dest / "devzero.jpg")
    os.symlink(dest / "nowhere.jpg", dest / "broken-link.jpg")
    os.symlink(dest / "loop-b.jpg", dest / "loop-a.jpg")
    os.symlink(dest / "loop-a.jpg", dest / "loop-b.jpg")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(dest / "socket.jpg"))
    except OSError:
        pass
    finally:
        sock.close()
    counts["special-file"] = sum(1 for p in ("fifo.jpg", "devzero.jpg", "broken-link.jpg", "loop-a.jpg",
                                             "loop-b.jpg", "socket.jpg") if os.path.lexists(dest / p))
    put("zero-bytes", "empty.jpg", b"")
    put("not-an-image", "text.jpg", b"hello, not a photo\n" * 10)
    return counts


def judge(proc_rc: int | None, stderr: str, summary: dict | None, tried: int) -> dict:
    """The fuzz figures: tried / clean errors / tracebacks / hangs."""
    errors = (summary or {}).get("errors", [])
    clean = [e for e in errors if e.get("path") and e.get("reason") and "Traceback" not in e["reason"]]
    return {
        "tried": tried,
        "clean_errors": len(clean),
        "decoded_ok": (summary or {}).get("added", 0) - len(errors),
        "tracebacks": stderr.count("Traceback") + sum(1 for e in errors if "Traceback" in (e.get("reason") or "")),
        "unexpected_failures": sum(1 for e in errors if "unexpected decoder failure" in (e.get("reason") or "")),
        "hangs": 1 if proc_rc is None else 0,
        "exit": proc_rc,
    }
