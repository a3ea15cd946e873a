#!/usr/bin/env bash
# Builds fluxcull's wheel and sdist, checks them with twine, installs the wheel into a fresh
# virtualenv outside the checkout and runs the installed `fluxcull` from a folder outside the
# checkout: --version, the headless demo in a temporary library, an offscreen screenshot of the
# window and install-desktop into a temporary XDG data folder. Everything the run needs (migrations,
# icons, the ONNX export code, the demo's photos) must come from the installed package.
#
# The fresh venv gets fluxcull's wheel with --no-deps; its dependencies (torch, PySide6, ...) are
# reached through a .pth file naming the development venv's site-packages, so the check costs no
# second multi-gigabyte install. That .pth holds plain paths (no `import` lines): the dev venv's own
# .pth files, the editable install of the checkout among them, are not processed, so the checkout
# cannot leak in. A full `pip install fluxcull-*.whl` resolves the same dependencies from the index.
#
# Usage: packaging/check_wheel.sh [DEV_PYTHON]   (default: .venv/bin/python, as `make test` made it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEV_PY=${1:-${FLUXCULL_DEV_PYTHON:-$ROOT/.venv/bin/python}}
DEV_PREFIX=$("$DEV_PY" -c 'import sys; print(sys.prefix)')  # read here: the checks below run from elsewhere
START=$(date +%s)
step() { echo "check_wheel: $* ($(( $(date +%s) - START )) s)"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fluxcull-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$DEV_PY" -c 'import build, twine' 2>/dev/null || "$DEV_PY" -m pip install --quiet build twine
step "building the sdist and the wheel"
EGG_BEFORE=$(test -e fluxcull.egg-info && echo yes || echo no)
"$DEV_PY" -m build --outdir "$WORK/dist" "$ROOT" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
# setuptools leaves fluxcull.egg-info in the tree; stale, it would shadow the version (PYTHONPATH runs)
[ "$EGG_BEFORE" = yes ] || rm -rf fluxcull.egg-info
"$DEV_PY" -m twine check --strict "$WORK"/dist/*
WHEEL=$(ls "$WORK"/dist/fluxcull-*.whl)
SDIST=$(ls "$WORK"/dist/fluxcull-*.tar.gz)

"$DEV_PY" - "$WHEEL" "$SDIST" <<'PY'
import sys, tarfile, zipfile, pathlib
wheel, sdist = sys.argv[1:3]
names = set(zipfile.ZipFile(wheel).namelist())
migrations = sorted(p.name for p in pathlib.Path("fluxcull/catalog/migrations").glob("*.sql"))
need = [f"fluxcull/catalog/migrations/{m}" for m in migrations] + [
    "fluxcull/resources/icons/fluxcull.svg", "fluxcull/resources/icons/fluxcull-48.png",
    "fluxcull/resources/icons/fluxcull-128.png", "fluxcull/resources/icons/fluxcull-256.png",
    "fluxcull/resources/io.github.fluxcull.desktop", "fluxcull/resources/io.github.fluxcull.metainfo.xml",
]
missing = [n for n in need if n not in names]
assert not missing, f"the wheel lacks {missing}"
stray = [n for n in names if n.startswith(("tests/", "benchmarks/", "resources/"))]
assert not stray, f"the wheel holds files outside the package: {stray[:5]}"
snames = tarfile.open(sdist).getnames()
top = snames[0].split("/")[0]
for rel in ("pyproject.toml", "README.md", "CHANGELOG.md", f"fluxcull/catalog/migrations/{migrations[-1]}"):
    assert f"{top}/{rel}" in snames, f"the sdist lacks {rel}"
print(f"check_wheel: wheel holds {len(migrations)} migrations and the icons; sdist complete")
PY

step "installing the wheel into a fresh venv"
# The same interpreter as the dev venv, so the .pth below names site-packages of the same Python.
BASE_PY=$("$DEV_PY" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')
"$BASE_PY" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
SITE=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$DEV_PY" -c 'import sysconfig; p = sysconfig.get_paths(); print(p["purelib"]); print(p["platlib"])' \
    | sort -u > "$SITE/fluxcull-check-deps.pth"
"$DEV_PY" -m pip --python "$VPY" install --quiet --no-deps --no-index "$WHEEL" 2>/dev/null \
    || "$VPY" -m pip install --quiet --no-deps --no-index "$WHEEL"
FLUX="$WORK/venv/bin/fluxcull"

# Run from outside the checkout, with nothing of it on the path.
cd "$WORK"
unset PYTHONPATH
export FLUXCULL_LIBRARY="$WORK/library" QT_QPA_PLATFORM=offscreen HOME="$WORK/home"
mkdir -p "$HOME"
"$VPY" - "$WORK/venv" "$ROOT" "$DEV_PREFIX" <<'PY'
import sys, pathlib
venv, root, dev = (pathlib.Path(p).resolve() for p in sys.argv[1:4])
import fluxcull, fluxcull.catalog.db as db
from importlib import resources, metadata
here = pathlib.Path(fluxcull.__file__).resolve()
assert here.is_relative_to(venv), f"fluxcull imported from {here}, not the fresh venv"
# nothing of the checkout on the path; the development venv's site-packages (the dependencies) may
# lie inside it, as `make test` makes .venv in the clone
inside = [p for p in sys.path if p and pathlib.Path(p).resolve().is_relative_to(root)
          and not pathlib.Path(p).resolve().is_relative_to(dev)]
assert not inside, inside
mig = pathlib.Path(str(resources.files("fluxcull.catalog").joinpath("migrations")))
assert mig.resolve().is_relative_to(venv) and len(db.migrations()) >= 12, mig
assert fluxcull.__version__ == metadata.version("fluxcull"), (fluxcull.__version__, metadata.version("fluxcull"))
print(f"check_wheel: fluxcull {fluxcull.__version__} imported from {here.parent}")
PY
VERSION=$("$FLUX" --version)
echo "check_wheel: $VERSION"

step "headless demo in a temporary library"
"$FLUX" demo --no-gui --json > demo.json 2> demo.err || { cat demo.err; exit 1; }
"$VPY" - "$WORK/library" <<'PY'
import json, pathlib, sys
s = json.load(open("demo.json"))
lib = pathlib.Path(sys.argv[1])
assert pathlib.Path(s["library"]).resolve() == lib.resolve(), s["library"]
assert (lib / "catalog.sqlite").is_file()
onnx = list(lib.rglob("*.onnx"))
assert onnx, "the demo exported no ONNX model"
assert (s.get("embed") or {}).get("backbone"), s.get("embed")
assert s.get("train"), "the demo trained no keeper model"
photos = sum(int((s.get(f"ingest_{r}") or {}).get("added") or 0) for r in ("originals", "keepers", "inbox"))
assert photos > 0, "the demo ingested no photo"
print(f"check_wheel: demo ran on {photos} photos; ONNX export {onnx[0].name}")
PY

step "offscreen screenshot of the window"
"$FLUX" gui --screenshot shot.png > gui.log 2>&1 || { cat gui.log; exit 1; }
test "$(stat -c %s shot.png)" -gt 10000 || { echo "check_wheel: screenshot too small"; exit 1; }

step "desktop integration into a temporary XDG data folder"
export XDG_DATA_HOME="$WORK/xdg"
"$FLUX" install-desktop --json > desktop.json
test -f "$XDG_DATA_HOME/applications/io.github.fluxcull.desktop"
grep -q "^Exec=$FLUX gui" "$XDG_DATA_HOME/applications/io.github.fluxcull.desktop"
"$FLUX" install-desktop --uninstall --json > /dev/null
test ! -e "$XDG_DATA_HOME" || { echo "check_wheel: uninstall left files"; find "$XDG_DATA_HOME"; exit 1; }

step "passed"
