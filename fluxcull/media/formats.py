"""Which files fluxcull reads as photos, by extension (everything else, sidecars included, is skipped)."""

from __future__ import annotations

import os
from pathlib import Path

JPEG_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})
PNG_EXTENSIONS = frozenset({".png"})
TIFF_EXTENSIONS = frozenset({".tif", ".tiff"})
HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif", ".avif"})

# Camera RAW formats LibRaw opens (through rawpy).
RAW_EXTENSIONS = frozenset({
    ".3fr", ".ari", ".arw", ".bay", ".braw", ".cap", ".cr2", ".cr3", ".crw", ".cs1", ".dc2", ".dcr",
    ".dcs", ".dng", ".drf", ".eip", ".erf", ".fff", ".gpr", ".iiq", ".k25", ".kdc", ".mdc", ".mef",
    ".mos", ".mrw", ".nef", ".nrw", ".orf", ".ori", ".pef", ".ptx", ".pxn", ".qtk", ".r3d", ".raf",
    ".raw", ".rw2", ".rwl", ".rwz", ".sr2", ".srf", ".srw", ".sti", ".x3f",
})

IMAGE_EXTENSIONS = JPEG_EXTENSIONS | PNG_EXTENSIONS | TIFF_EXTENSIONS | HEIF_EXTENSIONS


def extension(path: str | os.PathLike) -> str:
    return os.path.splitext(os.fspath(path))[1].lower()


def heif_available() -> bool:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        return False
    return True


def is_raw(path: str | os.PathLike) -> bool:
    return extension(path) in RAW_EXTENSIONS


def is_hidden(path: str | os.PathLike) -> bool:
    name = Path(path).name
    return name.startswith(".") or name.lower() in {"thumbs.db", "desktop.ini"}


def is_supported(path: str | os.PathLike) -> bool:
    """A photo fluxcull ingests: a known image or RAW extension and not a hidden file."""
    if is_hidden(path):
        return False
    ext = extension(path)
    if ext in HEIF_EXTENSIONS:
        return heif_available()
    return ext in IMAGE_EXTENSIONS or ext in RAW_EXTENSIONS


def format_name(path: str | os.PathLike) -> str:
    """Short format label stored in photos.format: jpeg, png, tiff, heif or the RAW extension."""
    ext = extension(path)
    if ext in JPEG_EXTENSIONS:
        return "jpeg"
    if ext in PNG_EXTENSIONS:
        return "png"
    if ext in TIFF_EXTENSIONS:
        return "tiff"
    if ext in HEIF_EXTENSIONS:
        return "heif"
    if ext in RAW_EXTENSIONS:
        return ext[1:]
    return ext[1:] or "unknown"
