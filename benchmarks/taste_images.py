"""Real source photographs and the camera-like treatments the taste benchmark renders from them.

Sources are real photographs: the test photos in ../shared/photos (see SOURCES.md there) and the
sample photographs inside scikit-image's wheel (read as files). Each is tagged with a coarse subject
category ("nature": landscapes, plants, animals, sea; "built": streets, buildings, interiors,
vehicles, people, food, objects) for the subject taste. A *scene* is a crop of a source at some place
and scale, maybe mirrored, with a mild colour treatment and the light of its session; a *frame* is
one exposure of a scene: clean, or one near-miss defect of realistic strength.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from benchmarks.common import SHARED_PHOTOS

LONG_SIDE = 1200  # rendered frames: 1200 x 800 (landscape) or 800 x 1200 (portrait)

# (path under ../shared/photos, category)
SHARED_SOURCES = (
    ("exif-samples/jpg/Reconyx_HC500_Hyperfire.jpg", "nature"),
    ("exif-samples/jpg/exif-org/fujifilm-finepix40i.jpg", "nature"),
    ("exif-samples/jpg/exif-org/fujifilm-mx1700.jpg", "nature"),
    ("exif-samples/jpg/exif-org/kodak-dc240.jpg", "nature"),
    ("exif-samples/jpg/exif-org/olympus-c960.jpg", "nature"),
    ("exif-samples/jpg/gps/DSCN0010.jpg", "nature"),
    ("exif-samples/jpg/gps/DSCN0012.jpg", "nature"),
    ("exif-samples/jpg/gps/DSCN0021.jpg", "nature"),
    ("exif-samples/jpg/hdr/iphone_hdr_NO.jpg", "nature"),
    ("exif-samples/jpg/mobile/HMD_Nokia_8.3_5G.jpg", "nature"),
    ("exif-samples/jpg/mobile/jolla.jpg", "nature"),
    ("exif-samples/jpg/tests/11-tests.jpg", "nature"),
    ("exif-samples/jpg/tests/30-type_error.jpg", "nature"),
    ("exif-samples/jpg/tests/33-type_error.jpg", "nature"),
    ("exif-samples/jpg/tests/36-memory_error.jpg", "nature"),
    ("exifr/test/fixtures/IMG_20180725_163423.jpg", "nature"),
    ("exifr/test/fixtures/sidecar/IMG_5910.jpg", "nature"),
    ("photoprism/assets/examples/beach_sand.jpg", "nature"),
    ("photoprism/internal/meta/testdata/Iceland-sRGB.jpg", "nature"),
    ("photoprism/internal/meta/testdata/ladybug.jpg", "nature"),
    ("photoprism/internal/meta/testdata/snow.jpg", "nature"),
    ("exif-samples/jpg/exif-org/canon-ixus.jpg", "built"),
    ("exif-samples/jpg/exif-org/fujifilm-dx10.jpg", "built"),
    ("exif-samples/jpg/exif-org/kodak-dc210.jpg", "built"),
    ("exif-samples/jpg/exif-org/nikon-e950.jpg", "built"),
    ("exif-samples/jpg/exif-org/sanyo-vpcg250.jpg", "built"),
    ("exif-samples/jpg/exif-org/sanyo-vpcsx550.jpg", "built"),
    ("exif-samples/jpg/exif-org/sony-cybershot.jpg", "built"),
    ("exif-samples/jpg/exif-org/sony-d700.jpg", "built"),
    ("exif-samples/jpg/gps/DSCN0025.jpg", "built"),
    ("exif-samples/jpg/gps/DSCN0027.jpg", "built"),
    ("exif-samples/jpg/gps/DSCN0029.jpg", "built"),
    ("exif-samples/jpg/gps/DSCN0038.jpg", "built"),
    ("exif-samples/jpg/gps/DSCN0040.jpg", "built"),
    ("exif-samples/jpg/gps/DSCN0042.jpg", "built"),
    ("exif-samples/jpg/hdr/canon_hdr_NO.jpg", "built"),
    ("exif-samples/jpg/tests/22-canon_tags.jpg", "built"),
    ("exif-samples/jpg/tests/28-hex_value.jpg", "built"),
    ("exif-samples/jpg/tests/35-empty.jpg", "built"),
    ("exif-samples/jpg/tests/45-gps_ifd.jpg", "built"),
    ("exif-samples/jpg/tests/87_OSError.jpg", "built"),
    ("exifr/test/fixtures/issue-fast-exif-2.jpg", "built"),
    ("photoprism/assets/examples/IMG_4120.JPG", "built"),
    ("raw-io/test/media/group/1.jpg", "built"),
    ("raw-io/test/media/group/10.jpg", "built"),
    ("raw-io/test/media/group/14.jpg", "built"),
    ("raw-io/test/media/group/17.jpg", "built"),
    ("raw-io/test/media/group/20.jpg", "built"),
)
# (file in skimage/data, category)
SKIMAGE_SOURCES = (
    ("chelsea.png", "nature"), ("astronaut.png", "built"), ("coffee.png", "built"), ("rocket.jpg", "built"),
    ("motorcycle_left.png", "built"), ("camera.png", "built"),
)
# Wide-animal photos from photoprism are small (497 x 331) but real; they are nature scenes.
SMALL_NATURE = tuple(f"photoprism/assets/examples/{n}.jpg"
                     for n in ("chameleon_lime", "elephants", "giraffe_green_brown", "zebra_green_brown"))


def skimage_dir() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data"
    return path if path.is_dir() else None


def available_sources(shared: Path = SHARED_PHOTOS) -> list[tuple[Path, str]]:
    """Every source photograph present on this machine, with its category, in a fixed order."""
    out = [(shared / p, c) for p, c in SHARED_SOURCES] + [(shared / p, "nature") for p in SMALL_NATURE]
    sk = skimage_dir()
    if sk is not None:
        out += [(sk / p, c) for p, c in SKIMAGE_SOURCES]
    return [(p, c) for p, c in out if p.is_file()]


@functools.lru_cache(maxsize=96)
def load_source(path: Path) -> Image.Image:
    """A source photograph, upright, RGB, at most 2000 px on its long side."""
    img = Image.open(path)
    img.draft("RGB", (2000, 2000))
    img = ImageOps.exif_transpose(img).convert("RGB")
    if max(img.size) > 2000:
        img.thumbnail((2000, 2000), Image.Resampling.LANCZOS)
    return img


def crop_box(src_size: tuple[int, int], portrait: bool, scale: float, cx: float, cy: float) -> tuple[int, ...]:
    """A 3:2 (or 2:3) window covering `scale` of the largest such window of the source, centred as
    near (cx, cy) (fractions of the source) as the borders allow."""
    w, h = src_size
    aspect = 2 / 3 if portrait else 3 / 2
    cw, ch = (w, w / aspect) if w / h < aspect else (h * aspect, h)
    cw, ch = cw * scale, ch * scale
    x0 = min(max(cx * w - cw / 2, 0), w - cw)
    y0 = min(max(cy * h - ch / 2, 0), h - ch)
    return (round(x0), round(y0), round(x0 + cw), round(y0 + ch))


MARGIN = 1.04  # scenes are rendered this much larger; each hand-held frame is a window of it


def _out_size(portrait: bool, margin: float = 1.0) -> tuple[int, int]:
    short = LONG_SIDE * 2 // 3
    w, h = (short, LONG_SIDE) if portrait else (LONG_SIDE, short)
    return round(w * margin), round(h * margin)


def render_scene(scene: dict, session: dict, framing: dict | None = None) -> Image.Image:
    """A scene as the camera saw it, MARGIN larger than a frame (or recomposed when `framing` moves
    and scales the window)."""
    src = load_source(Path(scene["source"]))
    f = framing or {}
    box = crop_box(src.size, scene["portrait"], scene["scale"] * f.get("scale", 1.0) * MARGIN,
                   scene["cx"] + f.get("dx", 0.0), scene["cy"] + f.get("dy", 0.0))
    img = src.resize(_out_size(scene["portrait"], MARGIN), Image.Resampling.LANCZOS, box=box)
    if scene["flip"]:
        img = ImageOps.mirror(img)
    img = _colour(img, scene, session)
    if scene.get("soft", 0) > 0.05:
        img = img.filter(ImageFilter.GaussianBlur(scene["soft"]))
    return img


def _handheld(view: Image.Image, portrait: bool, rng: np.random.Generator) -> Image.Image:
    """A frame-sized window at a random place of the rendered view: the photographer's hands move."""
    w, h = _out_size(portrait)
    x, y = int(rng.integers(0, view.width - w + 1)), int(rng.integers(0, view.height - h + 1))
    return view.crop((x, y, x + w, y + h))


def _colour(img: Image.Image, scene: dict, session: dict) -> Image.Image:
    a = np.asarray(img, np.float32) / 255.0
    # white balance of the scene, warmed by low sun (golden hour light, for every photographer)
    g = golden(session["hour"])
    gains = np.array([scene["wb"] * (1 + 0.07 * g), 1.0, (1 / scene["wb"]) * (1 - 0.09 * g)], np.float32)
    a = a * gains * (1 - 0.08 * g)
    light = session["light"]
    contrast = scene["contrast"] * {"fog": 0.7, "overcast": 0.8, "sunny": 1.22, "normal": 1.0}[light]
    sat = scene["saturation"] * {"fog": 0.6, "overcast": 0.8, "sunny": 1.12, "normal": 1.0}[light]
    lum = a @ np.array([0.299, 0.587, 0.114], np.float32)
    a = lum[..., None] + (a - lum[..., None]) * sat
    a = 0.5 + (a - 0.5) * contrast
    if light == "fog":  # veiling haze: blend towards a light grey, more at the top of the frame
        veil = session.get("fog", 0.35) * np.linspace(1.15, 0.75, a.shape[0], dtype=np.float32)[:, None, None]
        a = a * (1 - veil) + 0.78 * veil
    a = a * scene["exposure"]
    img = Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8))
    if session.get("mono"):
        img = ImageOps.grayscale(img).convert("RGB")
    return img


def golden(hour: float) -> float:
    """0 at midday .. 1 near sunrise (07:00) or sunset (19:00)."""
    d = min(abs(hour - 7.0), abs(hour - 19.0))
    return max(0.0, 1.0 - d / 2.5)


def frame(scene: dict, session: dict, kind: str, rng: np.random.Generator,
          view: Image.Image | None = None) -> tuple[Image.Image, dict]:
    """One frame of the scene's burst: 'clean' or a near-miss of realistic strength. Returns the image
    and the defect's parameters. Every frame has the same size, so size never tells them apart.
    `view` is the scene's render_scene(), reused across the frames of a burst."""
    if kind == "recompose":  # tighter, the subject larger, the window moved
        p = {"scale": float(rng.uniform(0.76, 0.86)), "dx": float(rng.uniform(-0.06, 0.06)),
             "dy": float(rng.uniform(-0.05, 0.05))}
        return _handheld(render_scene(scene, session, p), scene["portrait"], rng), p
    img = _handheld(view if view is not None else render_scene(scene, session), scene["portrait"], rng)
    if kind == "clean":
        return img, {}
    if kind == "misfocus":
        p = {"sigma": float(rng.uniform(1.6, 3.2))}
        return img.filter(ImageFilter.GaussianBlur(p["sigma"])), p
    if kind == "shake":
        p = {"length": float(rng.uniform(7, 15)), "angle": float(rng.uniform(0, 180))}
        return motion_blur(img, p["length"], p["angle"]), p
    if kind in ("over", "under"):
        p = {"gain": float(rng.uniform(1.35, 1.65) if kind == "over" else rng.uniform(0.5, 0.66))}
        return ImageEnhance.Brightness(img).enhance(p["gain"]), p
    if kind == "tilt":
        p = {"degrees": float(rng.choice([-1, 1]) * rng.uniform(2.5, 6.0))}
        return tilt(img, p["degrees"]), p
    raise ValueError(kind)


def motion_blur(img: Image.Image, length: float, angle_deg: float) -> Image.Image:
    """Camera shake: the mean of the image shifted along a line of `length` pixels."""
    a = np.asarray(img, np.float32)
    n = max(2, int(round(length)))
    t = math.radians(angle_deg)
    acc = np.zeros_like(a)
    for s in np.linspace(-length / 2, length / 2, n):
        acc += np.roll(a, (int(round(s * math.sin(t))), int(round(s * math.cos(t)))), axis=(0, 1))
    return Image.fromarray(np.clip(acc / n + 0.5, 0, 255).astype(np.uint8))


def tilt(img: Image.Image, degrees: float) -> Image.Image:
    """A crooked horizon: rotated, then cropped to the largest upright window and scaled back."""
    w, h = img.size
    r = img.rotate(degrees, resample=Image.Resampling.BICUBIC)
    t = math.radians(abs(degrees))
    k = 1 / (math.cos(t) + max(w / h, h / w) * math.sin(t))
    cw, ch = w * k, h * k
    box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    return r.resize((w, h), Image.Resampling.BICUBIC, box=box)
