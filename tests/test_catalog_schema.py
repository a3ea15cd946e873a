import sqlite3

import pytest

from fluxcull.catalog import connect, migrate, schema_sql, transaction
from fluxcull.catalog.db import latest_version, migrations


def test_fresh_catalog_is_wal_with_foreign_keys(tmp_path):
    conn = connect(tmp_path / "c.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()


def test_fresh_and_migrated_catalogs_have_the_same_schema(tmp_path):
    fresh = connect(tmp_path / "fresh.sqlite")
    # an old catalog: only the first migration applied, with data in it, then upgraded
    old = connect(tmp_path / "old.sqlite", migrate_schema=False)
    migrate(old, target=migrations()[0][0])
    with transaction(old):
        old.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/x.jpg', 'originals', 1, 1)")
    migrate(old)
    assert old.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    assert schema_sql(old) == schema_sql(fresh)
    assert old.execute("SELECT path FROM photos").fetchone()[0] == "/x.jpg"


def test_decision_log_is_append_only(conn):
    with transaction(conn):
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/a.jpg', 'originals', 1, 1)")
        conn.execute("INSERT INTO decision_events(photo_id, kind, source) VALUES (1, 'keep', 'test')")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with transaction(conn):
            conn.execute("UPDATE decision_events SET kind = 'reject'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with transaction(conn):
            conn.execute("DELETE FROM decision_events")
    assert conn.execute("SELECT kind FROM decision_events").fetchall()[0][0] == "keep"


def test_transaction_rolls_back_on_error(conn):
    with pytest.raises(RuntimeError):
        with transaction(conn):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/a.jpg', 'originals', 1, 1)")
            raise RuntimeError("boom")
    assert conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 0


def test_role_and_score_constraints(conn):
    with pytest.raises(sqlite3.IntegrityError):
        with transaction(conn):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/a.jpg', 'elsewhere', 1, 1)")
    with pytest.raises(sqlite3.IntegrityError):
        with transaction(conn):
            conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, keeper_score) VALUES ('/a.jpg', 'inbox', 1, 1, 1.5)"
            )


def test_place_label_prefers_name_then_gps():
    from fluxcull.catalog.queries import place_label

    assert place_label({"place": "Lyon", "gps_lat": 1.0, "gps_lon": 2.0}) == "Lyon"
    assert place_label({"place": None, "gps_lat": -33.8688, "gps_lon": 151.2093}) == "33.87°S 151.21°E"
    assert place_label({"place": None, "gps_lat": 48.8566, "gps_lon": -2.35}) == "48.86°N 2.35°W"
    assert place_label({"gps_lat": None, "gps_lon": None}) == ""


def test_list_photos_offset_without_limit(conn):
    from fluxcull.catalog.queries import PhotoQuery, list_photos

    with transaction(conn):
        for i in range(4):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns, capture_time) VALUES (?, 'originals', 1, 1, ?)",
                         (f"/p{i}.jpg", float(i)))
    assert [r["path"] for r in list_photos(conn, PhotoQuery(), offset=2)] == ["/p2.jpg", "/p3.jpg"]
