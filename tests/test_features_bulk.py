"""The vectorised feature loader gives, bit for bit, what the per-photo definition gives.

`metadata_features` computes every photo's metadata features with array operations; the reference
here reads each photo on its own, ranks its session in plain Python and calls the per-photo
definition `_metadata_row`. A generated catalog covers missing values, both hemispheres, GPS
(0, 0), file-time photos, photos without a session, capture-time ties and NULLs inside a session,
times next to midnight and outside the calendar.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fluxcull.catalog import transaction
from fluxcull.embedding import features as F
from fluxcull.embedding import metadata_features as M

IDX = {n: i for i, n in enumerate(F.FEATURE_NAMES)}
META = {n: i for i, n in enumerate(F.METADATA_NAMES)}
DAY = 86400.0


def build_catalog(conn, n: int, seed: int = 0) -> list[int]:
    """n generated photos in sessions (with gaps in the ids), plus hand-made edge cases; returns the ids."""
    rng = np.random.default_rng(seed)
    n_sess = max(1, n // 40)
    rows = []
    pid = 0

    def maybe(v, p=0.15):
        return None if rng.random() < p else v

    for _ in range(n):
        pid += 1 if rng.random() < 0.9 else 3  # ids with holes
        gps = rng.random()
        lat, lon = ((float(rng.uniform(-80, 80)), float(rng.uniform(-180, 180))) if gps < 0.6 else
                    (0.0, 0.0) if gps < 0.65 else (float(rng.uniform(-40, 40)), None) if gps < 0.7 else (None, None))
        ct = maybe(float(1.2e9 + rng.uniform(0, 4e8)), 0.05)
        if ct is not None and rng.random() < 0.1:
            ct = float(round(ct))  # whole seconds, ties inside a session
        rows.append((
            pid, f"/o/{pid:07d}.jpg", "originals" if rng.random() < 0.9 else "keepers", ct,
            None if ct is None else ("mtime" if rng.random() < 0.1 else "exif"),
            maybe(int(rng.integers(1, n_sess + 1)), 0.08),
            maybe(float(rng.choice([0, 14, 24, 28, 35.5, 50, 85, 200]))),
            maybe(float(rng.choice([0, 1.2, 1.4, 2.8, 4, 5.6, 8, 11, 22]))),
            maybe(float(rng.choice([0, 1 / 8000, 1 / 250, 1 / 3, 0.004, 1 / 60, 0.5, 2.5, 30]))),
            maybe(int(rng.choice([0, 50, 100, 200, 400, 3200, 12800, 204800]))),
            maybe(float(rng.choice([0, 0.001, 0.005, 0.3, 2.5, 1e4, 123.456])), 0.5),
            lat, lon,
            maybe(int(rng.choice([0, 640, 4000, 6000, 8256]))), maybe(int(rng.choice([0, 480, 4000, 5504, 6000]))),
        ))
    # hand-made edge cases (one session of their own where it matters)
    edge = [
        (DAY * 19000 - 2 ** -22, "exif", -33.86, 151.21),  # datetime rounds it to the microsecond: next day
        (DAY * 19000 + 2 ** -22, "exif", 48.86, 2.29),
        (DAY * 19000, "exif", -0.0001, -0.0001),          # just south of the equator
        (DAY * 19000 - 2 ** -21, "exif", 0.0, 10.0),      # the equator itself counts as north
        (-DAY * 400 + 3600 * 5.5, "exif", -45.0, -70.0),  # before 1970
        (4e11, "exif", 10.0, 10.0),                     # after year 9999: no date, still an hour
        (1.7e9 + 21600, "mtime", 52.5, 13.4),            # file time: no hour, no season
        (1.7e9, "exif", None, None),
    ]
    edge_sess = n_sess + 1
    for k, (ct, src, lat, lon) in enumerate(edge):
        pid += 1
        rows.append((pid, f"/e/{k}.jpg", "originals", ct, src, edge_sess if k < 4 else None, 50.0, 2.0, 1 / 125,
                     100, 3.0, lat, lon, 6000, 4000))
    with transaction(conn):
        conn.executemany(
            "INSERT INTO sessions(id, role, start_time, end_time, start_at, end_at) VALUES (?, 'originals', 0, 0, '', '')",
            [(s,) for s in range(1, edge_sess + 1)])
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, capture_time, time_source, session_id,"
            " focal_length_35mm, aperture, shutter, iso, subject_distance, gps_lat, gps_lon, width, height)"
            " VALUES (?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("INSERT INTO sessions(id, role, start_time, end_time, start_at, end_at) VALUES (?, 'originals', 0, 0, '', '')",
                     (edge_sess + 1,))
        pid += 1  # a session of one photo
        conn.execute("INSERT INTO photos(id, path, role, size, mtime_ns, capture_time, time_source, session_id)"
                     " VALUES (?, '/single.jpg', 'inbox', 1, 1, 1.6e9, 'exif', ?)", (pid, edge_sess + 1))
    return [r[0] for r in conn.execute("SELECT id FROM photos ORDER BY id")]


def reference_metadata(conn, ids) -> np.ndarray:
    """Photo by photo: the catalog row, its session ranked in Python (NULL times first, then time, id)."""
    out = np.full((len(ids), len(F.METADATA_NAMES)), np.nan, np.float32)
    for i, pid in enumerate(ids):
        row = conn.execute("SELECT * FROM photos WHERE id = ?", (int(pid),)).fetchone()
        if row is None:
            continue
        pos, n = math.nan, None
        if row["session_id"] is not None:
            members = conn.execute("SELECT id, capture_time FROM photos WHERE session_id = ?", (row["session_id"],)).fetchall()
            order = [m[0] for m in sorted(members, key=lambda m: (m[1] is not None, m[1] or 0.0, m[0]))]
            n = len(order)
            pos = order.index(row["id"]) / (n - 1) if n > 1 else 0.5
        out[i] = M._metadata_row(dict(row), pos, n)
    return out


def assert_bits_equal(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float32
    diff = np.argwhere(a.view(np.uint32) != b.view(np.uint32))
    assert len(diff) == 0, f"{len(diff)} values differ, first at {diff[:5].tolist()}: {a[tuple(diff[0])]} vs {b[tuple(diff[0])]}"


@pytest.fixture
def catalog(conn):
    return build_catalog(conn, 2400)


def test_bulk_metadata_is_bit_identical_to_the_per_photo_definition(conn, catalog):
    ids = catalog  # dense: one range query
    assert_bits_equal(F.metadata_features(conn, ids), reference_metadata(conn, ids))


def test_rows_read_by_a_whole_library_pass_give_the_same_bits_as_the_queries(conn, catalog, monkeypatch):
    """A scoring pass hands in the metadata columns of every photo it read in its one photos scan:
    no metadata query is made, and the values (session positions included, NULL times first) are the
    same bits as the per-photo definition, tie-breaking path included."""
    from fluxcull.catalog.model_reads import PHOTO_ROW_METADATA, photo_rows

    every = photo_rows(conn)[:, PHOTO_ROW_METADATA]
    rng = np.random.default_rng(4)
    ids = [*rng.permutation(catalog)[:900], catalog[5], 10 ** 9]
    monkeypatch.setattr(M.features_store, "metadata_rows", lambda *a: pytest.fail("queried"))
    monkeypatch.setattr(M.features_store, "session_members", lambda *a: pytest.fail("queried"))
    want = reference_metadata(conn, ids)
    assert_bits_equal(F.metadata_features(conn, np.array(ids), every=every), want)
    monkeypatch.setattr(M, "_TIE_MARGIN", 1e-3)  # nearly every row through _metadata_row, from float rows
    assert_bits_equal(F.metadata_features(conn, np.array(ids), every=every), want)


def test_bulk_metadata_for_a_sparse_shuffled_request_with_duplicates_and_unknown_ids(conn, catalog):
    rng = np.random.default_rng(1)
    ids = [*catalog[::7], catalog[3], catalog[3], 10 ** 9, -5, *catalog[-12:]]
    ids = [ids[k] for k in rng.permutation(len(ids))]
    got = F.metadata_features(conn, np.array(ids))  # an array works as well as a list
    assert_bits_equal(got, reference_metadata(conn, ids))
    assert np.isnan(got[ids.index(10 ** 9)]).all() and np.isnan(got[ids.index(-5)]).all()
    assert F.metadata_features(conn, []).shape == (0, len(F.METADATA_NAMES))


def test_rows_near_a_float32_rounding_boundary_take_the_per_photo_path(conn, catalog, monkeypatch):
    # with a huge margin nearly every photo is recomputed by _metadata_row: the results must not change
    ids = catalog[:600]
    before = F.metadata_features(conn, ids)
    calls = []
    real = M._metadata_row
    monkeypatch.setattr(M, "_TIE_MARGIN", 1e-3)
    monkeypatch.setattr(M, "_metadata_row", lambda *a: calls.append(1) or real(*a))
    assert_bits_equal(F.metadata_features(conn, ids), before)
    assert len(calls) > 300


def test_hand_computed_edge_cases(conn, catalog):
    e = [r[0] for r in conn.execute("SELECT id FROM photos WHERE path LIKE '/e/%' ORDER BY id")]
    v = F.metadata_features(conn, e)
    sydney, paris, south_eq, equator, before_1970, far_future, file_time, no_gps = v
    m = META
    # 19000 days after 1970-01-01 is 2022-01-08 (day 8); times a fraction of a microsecond before it
    # round onto it in datetime
    for row, shift in ((sydney, math.pi), (paris, 0.0), (south_eq, math.pi), (equator, 0.0)):
        assert row[m["season_sin"]] == np.float32(math.sin(2 * math.pi * 7 / 365.25 + shift))
        assert row[m["season_cos"]] == np.float32(math.cos(2 * math.pi * 7 / 365.25 + shift))
        assert row[m["session_length_log2"]] == 2.0
    assert paris[m["hour_cos"]] == pytest.approx(1.0) and sydney[m["hour_cos"]] == pytest.approx(1.0)
    # the session of four, ordered by time: equator, sydney, south_eq, paris
    order = np.argsort([sydney[m["session_position"]], paris[m["session_position"]],
                        south_eq[m["session_position"]], equator[m["session_position"]]])
    assert order.tolist() == [3, 0, 2, 1]
    assert sorted(r[m["session_position"]] for r in (sydney, paris, south_eq, equator)) == [0.0, np.float32(1 / 3), np.float32(2 / 3), 1.0]
    # 1968-11-27 05:30 (day 332), southern hemisphere; no session
    assert before_1970[m["hour_sin"]] == np.float32(math.sin(2 * math.pi * 5.5 / 24))
    assert before_1970[m["season_cos"]] == np.float32(math.cos(2 * math.pi * 331 / 365.25 + math.pi))
    assert math.isnan(before_1970[m["session_position"]]) and math.isnan(before_1970[m["session_length_log2"]])
    assert before_1970[m["gps_z"]] == np.float32(math.sin(math.radians(-45.0)))
    # past year 9999: the hour is known, the date is not
    assert not math.isnan(far_future[m["hour_sin"]]) and math.isnan(far_future[m["season_sin"]])
    assert np.isnan(file_time[[m["hour_sin"], m["hour_cos"], m["season_sin"], m["season_cos"]]]).all()
    assert not math.isnan(file_time[m["gps_cell"]])
    assert math.isnan(no_gps[m["gps_x"]]) and math.isnan(no_gps[m["gps_cell"]])
    assert no_gps[m["season_cos"]] == np.float32(math.cos(2 * math.pi * 317 / 365.25))  # 2023-11-14, north
    for row in v:
        assert row[m["shutter_log2"]] == np.float32(math.log2(1 / 125))
        assert row[m["subject_distance_log10"]] == np.float32(math.log10(3.0))
        assert row[m["megapixels_log2"]] == np.float32(math.log2(24.0))


def test_technical_part_is_read_in_bulk_and_only_when_readable(conn, catalog):
    rng = np.random.default_rng(2)
    vecs = rng.uniform(0, 1, (len(catalog), len(F.STORED_NAMES))).astype(np.float32)
    vecs[rng.random(vecs.shape) < 0.1] = np.nan
    n_feat = len(F.FEATURE_NAMES)
    old, short = set(catalog[5::50]), set(catalog[7::50])
    with transaction(conn):
        conn.executemany("INSERT INTO photo_features(photo_id, schema, vector) VALUES (?, ?, ?)", [
            (pid, "fx0-old" if pid in old else F.FEATURE_SCHEMA, vecs[i, :5].tobytes() if pid in short else vecs[i].tobytes())
            for i, pid in enumerate(catalog) if i % 10])
    for ids in (catalog, [*catalog[::-3], catalog[0], 10 ** 9]):  # dense and sparse
        got, orient = F.load_features(conn, ids, with_orientation=True)
        assert_bits_equal(F.load_features(conn, ids), got)
        assert got.shape == (len(ids), len(F.FEATURE_NAMES)) and got.dtype == np.float32
        assert orient.shape == (len(ids), F.N_ORIENT)
        pos = {pid: i for i, pid in enumerate(catalog)}
        for k, pid in enumerate(ids):
            i = pos.get(pid)
            stored = i is not None and i % 10 and pid not in old and pid not in short
            want = vecs[i, :F.N_TECH] if stored else np.full(F.N_TECH, np.nan, np.float32)
            assert_bits_equal(got[k, :F.N_TECH], want)
            assert_bits_equal(orient[k], vecs[i, n_feat:] if stored else np.full(F.N_ORIENT, np.nan, np.float32))
        assert_bits_equal(got[:, F.N_TECH:], F.metadata_features(conn, ids))
    assert F.load_features(conn, []).shape == (0, len(F.FEATURE_NAMES))


def test_technical_part_of_every_photo_in_any_order_and_with_a_value_of_another_kind(conn, catalog):
    """Every photo with a vector (a whole-library pass reads them as they are, no placing): ids in
    order, reversed, and with one value stored as text, which leaves that photo NaN alone."""
    rng = np.random.default_rng(3)
    vecs = rng.uniform(0, 1, (len(catalog), len(F.STORED_NAMES))).astype(np.float32)
    with transaction(conn):
        conn.executemany("INSERT INTO photo_features(photo_id, schema, vector) VALUES (?, ?, ?)",
                         [(pid, F.FEATURE_SCHEMA, vecs[i].tobytes()) for i, pid in enumerate(catalog)])
    got, orient = F.load_features(conn, catalog, with_orientation=True)
    assert_bits_equal(got[:, :F.N_TECH], vecs[:, :F.N_TECH])
    assert_bits_equal(orient, vecs[:, len(F.FEATURE_NAMES):])
    back = F.load_features(conn, catalog[::-1])
    assert_bits_equal(back[:, :F.N_TECH], vecs[::-1, :F.N_TECH])
    with transaction(conn):
        conn.execute("UPDATE photo_features SET vector = 'not a vector' WHERE photo_id = ?", (catalog[4],))
    got = F.load_features(conn, catalog)
    assert np.isnan(got[4, :F.N_TECH]).all()
    assert_bits_equal(np.delete(got[:, :F.N_TECH], 4, axis=0), np.delete(vecs[:, :F.N_TECH], 4, axis=0))
