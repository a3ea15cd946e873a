"""Finding photos without the window: the `--where` grammar (parsed in Python into PhotoQuery fields,
never SQL text), `fluxcull photos --where` on real photos, saved filters (`fluxcull filters`), and
migrations numbered out of order."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

import pytest

from fluxcull.catalog import Catalog, connect, transaction
from fluxcull.catalog.filters import format_where, parse_where, query_from
from fluxcull.catalog.queries import PhotoQuery, list_photos
from fluxcull.cli import main
from fluxcull.errors import InvalidValue, UserError

# (source under ../shared/photos, name in the originals folder): cameras and dates to find
REAL = (
    ("exif-samples/jpg/Canon_40D.jpg", "Canon_40D.jpg"),                        # Canon, 2008-05-30
    ("exif-samples/jpg/Nikon_D70.jpg", "Nikon_D70.jpg"),                        # NIKON D70, 2008-03-15
    ("exif-samples/jpg/Nikon_COOLPIX_P1.jpg", "Nikon_COOLPIX_P1.jpg"),          # NIKON COOLPIX P1, 2008-03-07
    ("exif-samples/jpg/Fujifilm_FinePix_E500.jpg", "Fujifilm_FinePix_E500.jpg"),  # FUJIFILM, 2006-08-17
    ("exif-samples/jpg/Pentax_K10D.jpg", "Pentax_K10D.jpg"),                    # PENTAX, 2008-05-04
    ("exif-py/tests/resources/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
     "DSC_0001.dng"),                                                            # NIKON Z 9 + NIKKOR Z 85mm, 2025
)


def ingest_real(shared_photos, tmp_path, capsys) -> dict[str, int]:
    """A handful of real photos copied into tmp_path and ingested: file name -> photo id."""
    root = tmp_path / "originals"
    root.mkdir()
    for src, name in REAL:
        shutil.copyfile(shared_photos / src, root / name)
    assert main(["ingest", str(root), "--role", "originals", "--workers", "1"]) == 0
    capsys.readouterr()
    return {r["path"].rsplit("/", 1)[-1]: r["id"] for r in run_json(capsys, ["photos"])}


def run_json(capsys, argv: list[str], rc: int = 0):
    got = main(argv + ["--json"])
    out = capsys.readouterr()
    assert got == rc, out.err
    return json.loads(out.out) if rc == 0 else out.err


def names(rows) -> set[str]:
    return {r["path"].rsplit("/", 1)[-1] for r in rows}


# -- the grammar ------------------------------------------------------------------------------------------
def test_the_example_expression_parses_into_query_fields_and_writes_back():
    text = "camera~fuji and taken>=2024-03-01 and taken<2024-04-01 and decision=keep and score>=0.6 and name~IMG_12"
    values = parse_where(text)
    assert values == {"camera": "fuji", "taken_from": "2024-03-01", "taken_before": "2024-04-01",
                      "decision": "keep", "score_min": 0.6, "name": "IMG_12"}
    assert format_where(values) == "name~IMG_12 and camera~fuji and taken=2024-03 and score>=0.6 and decision=keep"
    assert parse_where(format_where(values)) == values
    q = query_from(text, role="originals")
    assert isinstance(q, PhotoQuery) and q.role == "originals" and q.camera == "fuji"


@pytest.mark.parametrize("text, values", [
    ("taken=2024", {"taken_from": "2024-01-01", "taken_before": "2025-01-01"}),
    ("taken<=2024-02", {"taken_before": "2024-03-01"}),
    ("taken>2024-03-31", {"taken_from": "2024-04-01"}),
    ("TAKEN>=2024-03-05T10:30 AND type=RAW", {"taken_from": "2024-03-05T10:30:00", "file_type": "raw"}),
    ("taken>=2024-01 and taken>=2024-03 and taken<2025 and taken<=2024-06", {"taken_from": "2024-03-01",
                                                                              "taken_before": "2024-07-01"}),
    ('lens~"85mm f/1.2" and camera~"GR III"', {"lens": "85mm f/1.2", "camera": "GR III"}),
    (r'name~"say \"hi\" \\ there"', {"name": 'say "hi" \\ there'}),
    ("band=uncertain and decision=Undecided and role=inbox", {"band": "uncertain", "decision": "none",
                                                              "role": "inbox"}),
    ("   ", {}),
])
def test_grammar_forms(text, values):
    assert parse_where(text) == values
    assert parse_where(format_where(values)) == values


def test_a_declared_field_with_a_lower_bound_only(monkeypatch):
    """A field may set a lower bound only (its attributes: one): > and >= are all it takes."""
    from fluxcull.catalog import filters as F

    least = F.FilterField("least", "Least", F.NUMBER, ("score_min",), "At least this many", minimum=1,
                          maximum=5, integer=True)
    monkeypatch.setattr(F, "FIELDS", F.FIELDS + (least,))
    monkeypatch.setitem(F.BY_KEY, "least", least)
    assert parse_where("least>=3") == {"score_min": 3} == parse_where("least>2")
    with pytest.raises(InvalidValue, match="least takes >= or >"):
        parse_where("least<3")
    with pytest.raises(InvalidValue, match="whole number"):
        parse_where("least>=2.5")


@pytest.mark.parametrize("text, values, written", [
    ("stars>=3", {"min_rating": 3}, "stars>=3"),
    ("stars>2 and stars<5", {"min_rating": 3, "rating_below": 5}, "stars>=3 and stars<=4"),
    ("stars=0", {"min_rating": 0, "rating_below": 1}, "stars=0"),
    ("STARS<=2", {"rating_below": 3}, "stars<=2"),
    ("label=Green", {"label": "green"}, "label=green"),
    ('label="any label"', {"label": "any"}, "label=any"),
    ("label=none", {"label": "none"}, "label=none"),
    ("stack>=2", {"stack_min": 2}, "stack>=2"),
    ("stack=1", {"stack_min": 1, "stack_below": 2}, "stack=1"),
    ("stack>3 and stack<=10 and stars>=4 and label=red",
     {"stack_min": 4, "stack_below": 11, "min_rating": 4, "label": "red"},
     "stack>=4 and stack<=10 and stars>=4 and label=red"),
])
def test_stars_label_and_stack_conditions(text, values, written):
    assert parse_where(text) == values
    assert format_where(values) == written  # as a person writes them: whole numbers said with = and <=
    assert parse_where(written) == values


@pytest.mark.parametrize("text, reason", [
    ("stars>=2.5", "whole number"),
    ("stars=6", "from 0 to 5"),
    ("stars>5", "no photo has that"),
    ("stars<0", "no photo has that"),
    ("stars~3", "stars takes"),
    ("label=pink", "red, yellow, green, blue, purple, any, none"),
    ("label~red", "label takes ="),
    ("label=red and label=blue", "given twice"),
    ("stack>=0", "from 1 to 1000000"),
    ("stack<1", "no photo has that"),
    ("stack>=two", "whole number"),
])
def test_bad_stars_label_and_stack_conditions_are_refused(text, reason):
    with pytest.raises(InvalidValue, match=reason):
        parse_where(text)


def _marked_photos(conn) -> dict[str, int]:
    """Seven photos with stars, labels and stacks: a stack of three (s1-s3), a stack of two (t1, t2), one
    photo alone, one not embedded yet (no stack). Name -> id."""
    rows = [  # name, stars, label, stack id (of the first frame's name), stack size
        ("s1", 5, "green", "s1", 3), ("s2", 3, None, "s1", 3), ("s3", 0, "red", "s1", 3),
        ("t1", 4, "green", "t1", 2), ("t2", 1, None, "t1", 2),
        ("alone", 3, "green", "alone", 1), ("new", 0, None, None, None),
    ]
    ids: dict[str, int] = {}
    with transaction(conn):
        for n, (name, stars, label, _, _) in enumerate(rows):
            ids[name] = conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, capture_time, keeper_score, rating, color_label)"
                " VALUES (?, 'originals', 1, 1, ?, ?, ?, ?)", (f"/p/{name}.jpg", n, n / 10, stars, label)).lastrowid
        for name, _, _, stack, size in rows:
            if stack is not None:
                conn.execute("UPDATE photos SET stack_id = ?, stack_size = ? WHERE id = ?",
                             (ids[stack], size, ids[name]))
    return ids


def test_the_catalog_finds_photos_by_stars_label_and_stack(conn):
    cat = Catalog(conn)
    ids = _marked_photos(conn)

    def found(expr: str, **base) -> set[str]:
        q = query_from(expr, **base)
        got = names(list_photos(conn, q))
        assert {i for i in cat.photo_ids(q)} == {ids[n[:-4]] for n in got}  # the grid's ids query agrees
        return {n[:-4] for n in got}

    assert found("stars>=3") == {"s1", "s2", "t1", "alone"}
    assert found("stars=0") == {"s3", "new"}
    assert found("stars<=3 and stars>=1") == {"s2", "t2", "alone"}
    assert found("label=green") == {"s1", "t1", "alone"}
    assert found("label=any") == {"s1", "s3", "t1", "alone"}
    assert found("label=none") == {"s2", "t2", "new"}
    assert found("stack>=2") == {"s1", "s2", "s3", "t1", "t2"}
    assert found("stack>=3") == {"s1", "s2", "s3"}
    assert found("stack=1") == {"alone"}  # the photo not embedded yet has no stack: in neither
    assert found("stack>=2 and stars>=4 and label=green") == {"s1", "t1"}
    assert found("stack<=2") == {"t1", "t2", "alone"}
    # stacks collapsed: each stack one row, its top frame among the frames the filters select
    collapsed = query_from("stack>=2", stacks="collapsed")
    assert cat.photo_ids(collapsed) == [ids["s3"], ids["t2"]]  # the best-scored frame of each
    assert cat.count_photos(collapsed) == 2
    assert cat.photo_ids(query_from("stack>=2 and label=green", stacks="collapsed")) == [ids["s1"], ids["t1"]]
    where, params = query_from("stars>=3 and label=green and stack>=2").where(conn)
    assert "green" not in where and params.count("green") == 1 and 3 in params and 2 in params  # values bound


def test_strict_score_bounds_write_back_as_written():
    values = parse_where("score>0.8 and score<=0.9")
    assert values["score_min"] > 0.8 and values["score_below"] > 0.9
    assert format_where(values) == "score>0.8 and score<=0.9"


@pytest.mark.parametrize("text, token, reason", [
    ("camra~fuji", "camra", "did you mean camera"),
    ("camera=fuji", "camera=", "camera takes ~"),
    ("camera~fuji or lens~x", "or", "joined by 'and'"),
    ("camera~fuji and", "and", "must follow 'and'"),
    ("score>=1.5", "score>=1.5", "from 0 to 1"),
    ("score>=NaN", "score>=NaN", "from 0 to 1"),
    ("taken>=2024-13-01", "taken>=2024-13-01", "month"),
    ("taken>=yesterday", "taken>=yesterday", "YYYY-MM-DD"),
    ("decision=maybe", "decision=maybe", "keep, reject, none"),
    ("type=gif", "type=gif", "raw, jpeg"),
    ("camera~a and camera~b", "camera~b", "given twice"),
    ("camera~", "camera~", "needs a value"),
    ('camera~"GR III', 'camera~"GR III', "quote is not closed"),
    ("1=1", "1=1", "expected a field name"),
    ("score==1", "score==", "score takes"),
])
def test_bad_expressions_name_the_bad_token(text, token, reason):
    with pytest.raises(InvalidValue) as err:
        parse_where(text)
    assert isinstance(err.value, UserError)
    assert err.value.token == token and reason in str(err.value), str(err.value)
    assert repr(token) in str(err.value)


def test_injection_attempts_are_values_or_errors_and_never_sql_text(library, conn):
    with transaction(conn):
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, camera_make, camera_model, capture_time)"
                     " VALUES ('/p/IMG_1.JPG', 'originals', 1, 1, 'FUJIFILM', 'X100V', 0)")
    hostile = "x' OR 1=1; DROP TABLE photos; --"
    q = query_from(f'camera~"{hostile}" and name~"%" and lens~"_"')
    sql, params = q.where()
    assert "DROP" not in sql and "1=1" not in sql and "'x" not in sql  # the statement's text is fluxcull's
    assert any(isinstance(p, str) and "DROP TABLE photos" in p for p in params)  # the value is a parameter
    assert list_photos(conn, q) == []  # a quote, %, _ and -- are searched for as text: nothing has them
    for bad in ("camera~fuji) OR (1=1", "camera~x; DROP TABLE photos", "name~x --", "1=1 or camera~x",
                "camera~fuji and 1=1", "camera~fuji UNION SELECT * FROM photos"):
        with pytest.raises(InvalidValue):
            parse_where(bad)
    assert conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 1
    assert len(list_photos(conn, query_from("camera~fuji and name~IMG_1"))) == 1


# -- the command line on real photos --------------------------------------------------------------------------
def test_photos_where_finds_by_camera_date_lens_and_type(library, shared_photos, tmp_path, capsys):
    ids = ingest_real(shared_photos, tmp_path, capsys)
    assert len(ids) == len(REAL)

    def found(expr: str) -> set[str]:
        return names(run_json(capsys, ["photos", "--where", expr]))

    assert found("camera~nikon") == {"Nikon_D70.jpg", "Nikon_COOLPIX_P1.jpg", "DSC_0001.dng"}
    assert found("camera~nikon and taken>=2008-03-01 and taken<2008-04-01") == {"Nikon_D70.jpg",
                                                                               "Nikon_COOLPIX_P1.jpg"}
    assert found("camera~nikon and taken=2008-03-15") == {"Nikon_D70.jpg"}
    assert found("taken=2008") == {"Canon_40D.jpg", "Nikon_D70.jpg", "Nikon_COOLPIX_P1.jpg", "Pentax_K10D.jpg"}
    assert found("lens~nikkor") == {"DSC_0001.dng"}
    assert found("type=raw") == {"DSC_0001.dng"}
    assert found("type=jpeg and text~fuji") == {"Fujifilm_FinePix_E500.jpg"}
    assert found("name~_d70") == {"Nikon_D70.jpg"}  # _ is a character, not LIKE's wildcard
    assert found("camera~canon and decision=keep") == set()
    assert main(["decide", str(ids["Canon_40D.jpg"]), "--keep"]) == 0
    capsys.readouterr()
    assert found("camera~canon and decision=keep and score>=0.6") == {"Canon_40D.jpg"}
    err = run_json(capsys, ["photos", "--where", "camera~nikon or iso>100"], rc=2)
    assert "'or'" in err and "fluxcull: error: filter expression" in err
    err = run_json(capsys, ["photos", "--role", "inbox", "--where", "role=originals"], rc=2)
    assert "give it once" in err


def test_photos_where_and_saved_filters_by_stars_and_label(library, shared_photos, tmp_path, capsys):
    ids = ingest_real(shared_photos, tmp_path, capsys)
    for argv in (["rate", "--stars", "4", str(ids["Nikon_D70.jpg"]), str(ids["Canon_40D.jpg"])],
                 ["rate", "--stars", "2", str(ids["Pentax_K10D.jpg"])],
                 ["label", "--color", "green", str(ids["Nikon_D70.jpg"]), str(ids["Pentax_K10D.jpg"])]):
        assert main(argv) == 0
    capsys.readouterr()

    def found(*argv: str) -> set[str]:
        return names(run_json(capsys, ["photos", *argv]))

    assert found("--where", "stars>=3") == {"Nikon_D70.jpg", "Canon_40D.jpg"}
    assert found("--where", "stars>=2 and label=green") == {"Nikon_D70.jpg", "Pentax_K10D.jpg"}
    assert found("--where", "stars>=3 and label=green and camera~nikon") == {"Nikon_D70.jpg"}
    assert found("--where", "stars=0 and label=none") == {"Nikon_COOLPIX_P1.jpg", "Fujifilm_FinePix_E500.jpg",
                                                         "DSC_0001.dng"}
    assert found("--label", "none", "--where", "stars>=1") == {"Canon_40D.jpg"}
    assert found("--where", "stack>=1") == set()  # nothing is embedded: no photo has a stack yet
    saved = run_json(capsys, ["filters", "--save", "Green picks", "--where", "label=Green and stars>2"])
    assert saved["expression"] == "stars>=3 and label=green" and saved["photos"] == 1
    assert found("--filter", "green picks") == {"Nikon_D70.jpg"}
    err = run_json(capsys, ["photos", "--min-stars", "2", "--where", "stars>=3"], rc=2)
    assert "give it once" in err
    err = run_json(capsys, ["photos", "--where", "stars>=6"], rc=2)
    assert "'stars>=6'" in err and "from 0 to 5" in err


def test_saved_filters_round_trip_on_the_command_line(library, shared_photos, tmp_path, capsys):
    ingest_real(shared_photos, tmp_path, capsys)
    assert run_json(capsys, ["filters"]) == []
    saved = run_json(capsys, ["filters", "--save", "Nikon, March 2008", "--where",
                              "camera~nikon  AND taken>=2008-03-01 and taken<2008-04-01"])
    assert saved["expression"] == "camera~nikon and taken=2008-03" and saved["photos"] == 2
    run_json(capsys, ["filters", "--save", "raw", "--where", "type=raw"])
    listed = run_json(capsys, ["filters"])
    assert [(f["name"], f["photos"]) for f in listed] == [("Nikon, March 2008", 2), ("raw", 1)]
    assert names(run_json(capsys, ["photos", "--filter", "nikon, march 2008"])) == {"Nikon_D70.jpg",
                                                                                    "Nikon_COOLPIX_P1.jpg"}
    assert names(run_json(capsys, ["photos", "--filter", "Nikon, March 2008", "--where", "name~P1"])) == {
        "Nikon_COOLPIX_P1.jpg"}
    again = run_json(capsys, ["filters", "--save", "RAW", "--where", "type=raw and camera~z 9"], rc=2)
    assert "'9'" in again  # a value with a space must be quoted: the bad token is named
    run_json(capsys, ["filters", "--save", "RAW", "--where", 'type=raw and camera~"z 9"'])
    assert [f["name"] for f in run_json(capsys, ["filters"])] == ["Nikon, March 2008", "RAW"]  # replaced
    assert "no saved filter named 'nope'" in run_json(capsys, ["filters", "--delete", "nope"], rc=2)
    run_json(capsys, ["filters", "--delete", "raw"])
    assert [f["name"] for f in run_json(capsys, ["filters"])] == ["Nikon, March 2008"]
    assert "needs --where" in run_json(capsys, ["filters", "--save", "x"], rc=2)
    assert "at least one condition" in run_json(capsys, ["filters", "--save", "x", "--where", " "], rc=2)
    assert main(["filters"]) == 0
    assert "Nikon, March 2008" in capsys.readouterr().out


def test_catalog_api_saved_filters_and_the_cameras_seen(conn):
    cat = Catalog(conn)
    with transaction(conn):
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, camera_make, camera_model, lens)"
                     " VALUES ('/a.jpg', 'originals', 1, 1, 'FUJIFILM', 'X-T4', 'XF35mmF1.4 R')")
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, camera_make) VALUES ('/b.jpg', 'inbox', 1, 1, 'Leica')")
        conn.execute("UPDATE photos SET camera_model = 'X100V' WHERE path = '/b.jpg'")
    assert cat.cameras() == [("Leica", ""), ("FUJIFILM", "X-T4"), ("Leica", "X100V")]  # by model
    assert cat.lenses() == ["XF35mmF1.4 R"]
    assert cat.count_photos(query_from("camera~leica")) == 1
    cat.save_filter("Fuji", "camera~fuji")
    assert cat.source_list()["saved_filters"][0]["expression"] == "camera~fuji"
    with pytest.raises(InvalidValue, match="control characters"):
        cat.save_filter("a\nb", "camera~fuji")


def test_a_camera_with_a_make_and_no_model_is_found_by_make(conn):
    with transaction(conn):
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, camera_make) VALUES ('/m.jpg', 'originals', 1, 1, "
                     "'Hasselblad')")
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, camera_make, camera_model) VALUES ('/n.jpg', "
                     "'originals', 1, 1, 'Other', 'Hasselblad-like')")
    assert names(list_photos(conn, query_from("camera~hasselblad"))) == {"m.jpg", "n.jpg"}
    assert names(list_photos(conn, query_from("camera~other"))) == {"n.jpg"}
    with transaction(conn):  # a model name two makes share: the make is tested too
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, camera_make, camera_model, lens) VALUES "
                     "('/o.jpg', 'originals', 1, 1, 'Hasselblad', 'Hasselblad-like', '85mm')")
    for expr, want in (("camera~hasselblad", {"m.jpg", "n.jpg", "o.jpg"}), ("camera~other", {"n.jpg"}),
                       ("camera~nothing", set()), ("lens~85", {"o.jpg"}), ("lens~99", set()),
                       ("camera~like and lens~mm", {"o.jpg"})):
        q = query_from(expr)
        bound, subqueries = q.where(conn), q.where()  # values bound as lists, or matched in subqueries
        for where, params in (bound, subqueries):
            got = {r[0].rsplit("/", 1)[-1] for r in conn.execute(f"SELECT path FROM photos{where}", params)}
            assert got == want, (expr, where)


# -- migrations numbered on parallel branches -------------------------------------------------------------------
def test_a_migration_numbered_below_the_newest_applied_is_still_applied(tmp_path, monkeypatch):
    from fluxcull.catalog import db

    shipped = db.migrations()
    # a migration merged in later, numbered below one the catalog already has: the newest but one that
    # adds no column to a table (one that does puts its columns after the later migration's, the same
    # columns in another order, which schema_sql below tells apart) and whose tables no later migration
    # uses (merged in later, it cannot be what a later one builds on)
    def independent(i: int) -> bool:
        sql = shipped[i][2]
        made = re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql, re.I)
        return "ALTER TABLE" not in sql.upper() and not any(
            re.search(rf"\b{name}\b", later[2]) for name in made for later in shipped[i + 1:])

    missing = shipped[next(i for i in range(len(shipped) - 2, -1, -1) if independent(i))]
    monkeypatch.setattr(db, "migrations", lambda: [m for m in shipped if m is not missing])
    path = tmp_path / "c.sqlite"
    conn = connect(path)
    assert db.pending(conn) == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == shipped[-1][0]
    conn.close()
    monkeypatch.setattr(db, "migrations", lambda: shipped)
    conn = connect(path)
    assert db.pending(conn) == []
    assert {r[0] for r in conn.execute("SELECT number FROM schema_migrations")} == {n for n, _, _ in shipped}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == shipped[-1][0]
    assert (tmp_path / f"c.sqlite.bak-{shipped[-1][0]}").is_file()  # backed up before migrating
    fresh = connect(tmp_path / "fresh.sqlite")
    assert db.schema_sql(conn) == db.schema_sql(fresh)


def test_a_catalog_from_before_the_migration_record_counts_its_user_version(tmp_path):
    from fluxcull.catalog import db

    raw = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    for number, _, sql in db.migrations()[:3]:
        for statement in db._split_sql(sql):
            raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {number}")
    raw.close()
    conn = connect(tmp_path / "old.sqlite")
    applied = [r[0] for r in conn.execute("SELECT number FROM schema_migrations ORDER BY number")]
    assert applied == [n for n, _, _ in db.migrations()]
