"""The command line: one-line errors for bad input, tracebacks (exit 3) only for bugs."""

from __future__ import annotations

import os
import time

import pytest

from fluxcull.cli import main
from relhelp import assert_one_line_error, cli, env_for, text


@pytest.fixture(scope="module")
def lib3(tmp_path_factory):
    """A library with three photos (ids 1-3)."""
    tmp = tmp_path_factory.mktemp("cli")
    from photogen import write_jpeg

    for i in range(3):
        write_jpeg(tmp / "photos" / f"R{i}.JPG", seed=i)
    p = cli("ingest", tmp / "photos", "--role", "originals", "--workers", "1", library=tmp / "lib", env=env_for(tmp))
    assert p.returncode == 0, text(p.stderr)
    return tmp / "lib", tmp


HUGE = "9" * 40


@pytest.mark.parametrize("args", [
    ["photos", "--limit", HUGE], ["photos", "--offset", HUGE], ["photos", "--session", HUGE],
    ["decide", HUGE, "--keep"], ["models", "--activate", HUGE], ["train", "--seed", HUGE],
    ["embed", "--batch-size", HUGE], ["ingest", ".", "--role", "inbox", "--workers", HUGE],
    ["gui", "--session", HUGE], ["explain", HUGE],
])
def test_huge_integers_are_refused_cleanly(lib3, args):
    """Finding 5d: huge integers ended in OverflowError tracebacks (7 cases)."""
    lib, tmp = lib3
    p = cli(*args, library=lib, env=env_for(tmp))
    err = text(p.stderr)
    assert p.returncode == 2 and "Traceback" not in err and "OverflowError" not in err, err


@pytest.mark.parametrize("args,needle", [
    (["ingest", ".", "--role", "inbox", "--session-gap", "nan"], "finite"),
    (["ingest", ".", "--role", "inbox", "--session-gap", "inf"], "finite"),
    (["ingest", ".", "--role", "inbox", "--session-gap", "-1"], "more than 0"),
    (["photos", "--offset", "-5"], "at least 0"),
    (["photos", "--limit", "1_000"], "digits 0-9"),
    (["embed", "--threads", "0"], "at least 1"),
])
def test_numeric_options_are_validated_while_parsing(lib3, args, needle):
    """Finding 8e: `--session-gap nan` and `--offset -5` were accepted."""
    lib, tmp = lib3
    p = cli(*args, library=lib, env=env_for(tmp))
    err = text(p.stderr)
    assert p.returncode == 2 and needle in err and "Traceback" not in err, err


def test_unicode_digits_are_not_photo_ids(lib3):
    """Finding 8f: '٣' (Arabic-Indic three) was taken as photo id 3."""
    lib, tmp = lib3
    p = cli("decide", "\u0663", "--keep", library=lib, env=env_for(tmp))
    assert_one_line_error(p, "not in the catalog")
    p = cli("photos", "--json", "--status", "all", library=lib, env=env_for(tmp))
    assert '"keep"' not in text(p.stdout)


def test_non_utf8_argument_is_refused_by_name(lib3):
    """Finding 8a: a non-UTF-8 name on the command line ended in a traceback."""
    lib, tmp = lib3
    p = cli("decide", b"photo-\xff.jpg", "--keep", library=lib, env=env_for(tmp))
    assert_one_line_error(p, "not valid UTF-8", "photo-")
    p = cli("ingest", b"/tmp/\xfe\xff", "--role", "inbox", library=lib, env=env_for(tmp))
    assert_one_line_error(p, "not valid UTF-8")


def test_library_option_hygiene(lib3, tmp_path):
    """Findings 5e and 8b/8c: --library at a file (traceback), --library "" (silently the default
    library), a mistyped --library (silently created by a read-only command)."""
    lib, tmp = lib3
    env = env_for(tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert_one_line_error(cli("status", library=a_file, env=env), "is a file")
    assert_one_line_error(cli("status", library="", env=env), "--library is empty")
    assert not (tmp_path / "home").exists()  # the default library was not created
    typo = tmp_path / "libary"
    for args in (["status"], ["photos"], ["decide", "1", "--keep"], ["doctor"], ["score"]):
        assert_one_line_error(cli(*args, library=typo, env=env), "no fluxcull library")
    assert not typo.exists()
    busy = tmp_path / "documents"
    (busy / "thesis").mkdir(parents=True)
    assert_one_line_error(cli("ingest", tmp / "photos", "--role", "inbox", library=busy, env=env),
                          "not a fluxcull library and not empty")
    assert sorted(os.listdir(busy)) == ["thesis"]


def test_decide_from_a_folder_or_an_endless_stream_is_refused(lib3, tmp_path):
    """Findings 5f and 6b: `--from` a folder gave a traceback; `--from /dev/zero` grew to 5.4 GB."""
    lib, tmp = lib3
    env = env_for(tmp)
    assert_one_line_error(cli("decide", "--keep", "--from", tmp_path, library=lib, env=env), "is a folder")
    t0 = time.monotonic()
    assert_one_line_error(cli("decide", "--keep", "--from", "/dev/zero", library=lib, env=env, timeout=60),
                          "line 1")
    assert time.monotonic() - t0 < 30
    listing = tmp_path / "list.txt"
    listing.write_text("# picks\n1\n2\n")
    p = cli("decide", "--keep", "--from", listing, "--json", library=lib, env=env)
    assert p.returncode == 0 and '"changed"' in text(p.stdout), text(p.stderr)
    p = cli("decide", "--clear", "--from", "-", library=lib, env=env, input=b"1\n2\n")
    assert p.returncode == 0, text(p.stderr)


def test_a_bug_shows_its_traceback_and_exits_3(lib3, monkeypatch, capsys):
    """Issue 10 item 7: a KeyError from a bug was reported as bad input (exit 2)."""
    from fluxcull.cli import query_cmd

    lib, _ = lib3

    def broken(args, lib):
        return {}["no such key"]

    monkeypatch.setattr(query_cmd, "run_status", broken)
    monkeypatch.setattr(query_cmd, "status_counts", lambda conn: {}["x"])
    parser_func = main.__globals__["build_parser"]
    monkeypatch.setitem(main.__globals__, "build_parser", lambda: _patched(parser_func(), broken))
    assert main(["--library", str(lib), "status"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error" in err and "KeyError" in err


def _patched(parser, func):
    for action in parser._subparsers._group_actions:
        action.choices["status"].set_defaults(func=func)
    return parser


def test_user_errors_stay_one_line(lib3, capsys):
    lib, _ = lib3
    assert main(["--library", str(lib), "decide", "no/such/photo.jpg", "--keep"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fluxcull: error:") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_status_json_names_the_log_file_which_records_the_runs(lib3):
    """Issue 10 item 7: there was no log file."""
    import json

    lib, tmp = lib3
    p = cli("status", "--json", library=lib, env=env_for(tmp))
    s = json.loads(p.stdout)
    assert s["log"] == str(lib / "logs" / "fluxcull.log") and s["job"] is None
    log = (lib / "logs" / "fluxcull.log").read_text()
    assert any("run:" in ln and " ingest " in ln for ln in log.splitlines())
