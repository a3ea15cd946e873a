"""Build the demo's ORIGINALS, KEEPERS and INBOX folders from packaged sample photographs."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from fluxcull.demo.exifwrite import make_exif

# Sample photographs inside scikit-image's wheel (skimage/data); read as files, skimage is not imported.
SCENES = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "retina.jpg", "camera.png", "coins.png", "moon.png",
    "brick.png", "grass.png", "gravel.png", "color.png", "ihc.png", "clock_motion.png",
)

# Walks: (date, start hour, latitude, longitude, scene indices)
WALKS = (
    (dt.date(2024, 3, 9), 8, 48.8566, 2.3522, (0, 1, 2, 3)),
    (dt.date(2024, 5, 18), 17, 48.8606, 2.3376, (4, 5, 6, 7)),
    (dt.date(2024, 9, 1), 10, 45.7640, 4.8357, (8, 9, 10, 11)),
    (dt.date(2025, 1, 12), 15, 45.7578, 4.8320, (12, 13, 14, 15)),
)
INBOX_WALK = (dt.date(2025, 6, 21), 19, 48.8530, 2.3499, (1, 2, 4, 6))
FRAMES_PER_SCENE = 4
MARKER = "demo.json"


@dataclass
class DemoFolders:
    root: Path

    @property
    def originals(self) -> Path:
        return self.root / "ORIGINALS"

    @property
    def keepers(self) -> Path:
        return self.root / "KEEPERS"

    @property
    def inbox(self) -> Path:
        return self.root / "INBOX"


def sample_dir() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the demo needs scikit-image's sample photographs: pip install scikit-image")
    path = Path(list(spec.submodule_search_locations)[0]) / "data"
    if not (path / SCENES[0]).is_file():
        raise RuntimeError(f"scikit-image's sample photographs are missing from {path}")
    return path


def _base(name: str, long_side: int = 1600) -> Image.Image:
    img = Image.open(sample_dir() / name)
    img = img.convert("RGB")
    scale = long_side / max(img.size)
    return img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)


def _frame(base: Image.Image, k: int, rng: np.random.Generator) -> tuple[Image.Image, str]:
    """Frame k of a hand-held burst: small shifts; one frame shaken, one badly exposed."""
    w, h = base.size
    dx, dy = rng.integers(0, max(2, w // 40)), rng.integers(0, max(2, h // 40))
    img = base.crop((dx, dy, dx + int(w * 0.96), dy + int(h * 0.96)))
    kind = "sharp"
    if k == 1:
        img = img.filter(ImageFilter.GaussianBlur(radius=6))
        kind = "shaken"
    elif k == 2:
        img = ImageEnhance.Brightness(img).enhance(0.35)
        kind = "underexposed"
    elif k == 3:
        img = ImageEnhance.Contrast(img).enhance(0.8)
        kind = "flat"
    return img, kind


def build_demo_folders(root: Path) -> DemoFolders:
    """Create the demo folders once (a marker file records what was made); returns their paths."""
    folders = DemoFolders(Path(root))
    if (folders.root / MARKER).is_file():
        return folders
    rng = np.random.default_rng(2024)
    bases = {}
    counter = 4100
    manifest = {"originals": [], "keepers": [], "inbox": []}
    walks = [(w, "originals") for w in WALKS] + [(INBOX_WALK, "inbox")]
    for (date, hour, lat, lon, scene_ids), role in walks:
        t = dt.datetime.combine(date, dt.time(hour, 0, 0))
        for si in scene_ids:
            name = SCENES[si]
            if name not in bases:
                bases[name] = _base(name)
            for k in range(FRAMES_PER_SCENE):
                img, kind = _frame(bases[name], k, rng)
                counter += 1
                fname = f"R{counter:07d}.JPG"
                folder = (folders.originals if role == "originals" else folders.inbox) / date.isoformat()
                folder.mkdir(parents=True, exist_ok=True)
                exif = make_exif(taken=t, subsec=f"{k * 25:02d}", offset="+01:00",
                                 gps=(lat + rng.normal(0, 1e-3), lon + rng.normal(0, 1e-3)),
                                 exposure=1 / 500 if kind != "shaken" else 1 / 8, iso=200)
                path = folder / fname
                img.save(path, "JPEG", quality=90, exif=exif)
                manifest[role].append({"path": str(path.relative_to(folders.root)), "scene": name, "kind": kind,
                                       "taken": t.isoformat()})
                if role == "originals" and kind == "sharp" and si % 4 != 3:
                    manifest["keepers"].append(_export_keeper(folders, path, img, t, exif, len(manifest["keepers"])))
                t += dt.timedelta(seconds=2)
            t += dt.timedelta(minutes=int(rng.integers(6, 25)))
    (folders.root / MARKER).write_text(json.dumps(manifest, indent=1))
    return folders


def _export_keeper(folders: DemoFolders, original: Path, img: Image.Image, taken: dt.datetime,
                   exif: Image.Exif, n: int) -> dict:
    """A keeper export as photographers make them: resized, renamed, some edited or stripped."""
    dest = folders.keepers / str(taken.year) / taken.strftime("%Y-%m-%d")
    dest.mkdir(parents=True, exist_ok=True)
    style = ("resized", "renamed-stripped", "bw", "resized")[n % 4]
    out = ImageOps.contain(img, (1200, 1200))
    if style == "bw":
        out = ImageOps.grayscale(out).convert("RGB")
    if style == "renamed-stripped":
        path = dest / f"walk-{taken:%m%d}-{n:02d}.jpg"
        out.save(path, "JPEG", quality=85)
    else:
        path = dest / f"{taken:%Y-%m-%d}_{original.stem}_{style}.jpg"
        out.save(path, "JPEG", quality=85, exif=exif)
    return {"path": str(path.relative_to(folders.root)), "original": str(original.relative_to(folders.root)),
            "style": style}
