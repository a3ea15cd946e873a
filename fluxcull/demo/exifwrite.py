"""Write EXIF into JPEGs that fluxcull itself generates (the demo library, tests).

Never used on a photographer's files: fluxcull does not write into their folders.
"""

from __future__ import annotations

import datetime as dt

from PIL import Image

_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DTO, _SUBSEC_DTO, _OFFSET_DTO = 0x9003, 0x9291, 0x9011
_FNUMBER, _EXPOSURE, _ISO, _FOCAL, _FOCAL35 = 0x829D, 0x829A, 0x8827, 0x920A, 0xA405


def _dms(v: float) -> tuple[float, float, float]:
    v = abs(v)
    d = int(v)
    m = int((v - d) * 60)
    s = round(((v - d) * 60 - m) * 60, 4)
    return (float(d), float(m), float(s))


def make_exif(*, taken: dt.datetime | None = None, subsec: str | None = None, offset: str | None = None,
              make: str = "RICOH IMAGING COMPANY, LTD.", model: str = "RICOH GR III", orientation: int = 1,
              fnumber: float | None = 2.8, exposure: float | None = 1 / 250, iso: int | None = 200,
              focal: float | None = 18.3, focal35: int | None = 28,
              gps: tuple[float, float] | None = None) -> Image.Exif:
    exif = Image.Exif()
    if make:
        exif[_MAKE] = make
    if model:
        exif[_MODEL] = model
    exif[_ORIENTATION] = orientation
    ifd = exif.get_ifd(_EXIF_IFD)
    if taken is not None:
        stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif[_DATETIME] = stamp
        ifd[_DTO] = stamp
        for tag, value in ((_SUBSEC_DTO, subsec), (_OFFSET_DTO, offset)):
            if value:
                ifd[tag] = value
    for tag, value in ((_FNUMBER, fnumber), (_EXPOSURE, exposure), (_ISO, iso), (_FOCAL, focal), (_FOCAL35, focal35)):
        if value:
            ifd[tag] = value
    if gps is not None:
        g = exif.get_ifd(_GPS_IFD)
        g[1] = "N" if gps[0] >= 0 else "S"
        g[2] = _dms(gps[0])
        g[3] = "E" if gps[1] >= 0 else "W"
        g[4] = _dms(gps[1])
    return exif
