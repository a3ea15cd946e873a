"""Simulated photographers for the taste benchmark: ORIGINALS, KEEPERS and INBOX folders of JPEGs
with EXIF capture times and GPS, built from real photographs, and the ground truth of each.

A photographer walks: each *session* (its own date, start time, weather and town) holds several
*scenes* minutes apart, each shot as a small burst seconds apart: one clean frame plus near-miss
variants (misfocus, shake, over/under exposure, tilt, recomposition), in random order. The
photographer's taste decides which sessions and scenes are worth a keeper and which frame of a
worthy scene is kept. Reviewed (older) sessions: the kept frames are exported into KEEPERS (resized,
renamed, some stripped of metadata, some black and white) — though not every worthy scene gets a
keeper — and the other frames of a scene that got a keeper are rejected near-misses. Sessions with
no worthy scene were never reviewed: no keepers, no decisions. The newest 25% of sessions are the
INBOX; their truth is the taste's intent (every worthy scene's chosen frame), without the noise.

Session-level attributes that decide worthiness are assigned balanced, separately in the reviewed
part and in the inbox, so both hold worthy and unworthy sessions; everything else is random and
shared by all tastes (scene sources, burst order, hours, weather, towns), so only the taste separates.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from benchmarks import taste_images as ti
from fluxcull.demo.exifwrite import make_exif

DEFECTS = ("misfocus", "shake", "over", "under", "tilt", "recompose")
# Towns 60-300 km apart: distinct GPS cells (lat, lon)
TOWNS = ((48.8566, 2.3522), (49.4432, 1.0999), (47.3941, 0.6848), (49.2583, 4.0317))
KEEP_NOISE = 0.85  # a worthy scene of a reviewed session gets a keeper with this probability

# taste name -> (kind, what it keeps)
TASTES = {
    "tonal-fog": ("tonal", "fog and flat overcast light; never harsh sun or plain daylight"),
    "tonal-mono": ("tonal", "camera monochrome sessions, and there only the punchy high-contrast scenes"),
    "composition": ("compositional", "portrait-orientation scenes, and the tighter recomposed frame of the burst"),
    "subject": ("subject", "nature (landscapes, plants, animals, sea); never streets, interiors, people, objects"),
    "temporal": ("temporal", "golden-hour walks (sunrise, sunset); never midday"),
    "location": ("location", "walks in two of the four towns it shoots in"),
    "technical": ("technical", "only scenes sharp enough (lens softness below its threshold), the sharpest frame"),
}


def _session_attrs(taste: str, worthy: bool, rng: np.random.Generator) -> dict:
    """Date-independent attributes of a session; `worthy` steers the taste's own attribute."""
    s = {"hour": float(rng.uniform(7.0, 19.0)), "light": str(rng.choice(["normal", "normal", "normal", "overcast",
                                                                          "sunny", "fog"])),
         "town": int(rng.integers(0, 2)), "mono": False, "fog": float(rng.uniform(0.25, 0.45)), "soft_base": 0.0}
    if taste == "tonal-fog":
        s["light"] = str(rng.choice(["fog", "overcast"]) if worthy else rng.choice(["sunny", "normal"]))
    elif taste == "tonal-mono":
        s["mono"] = worthy
    elif taste == "temporal":
        s["hour"] = float(rng.choice([rng.uniform(6.0, 7.5), rng.uniform(17.5, 19.0)]) if worthy
                          else rng.uniform(10.0, 14.5))
    elif taste == "location":
        s["town"] = int(rng.choice([0, 1]) if worthy else rng.choice([2, 3]))
    elif taste == "technical":  # an unworthy walk: dusk, hand-held, everything a little soft
        s["soft_base"] = 0.0 if worthy else float(rng.uniform(1.6, 2.2))
    return s


def _scene_attrs(taste: str, session: dict, want: bool | None, sources, rng: np.random.Generator) -> dict:
    """A scene; for scene-level tastes `want` says whether it should satisfy the taste."""
    nature = [s for s in sources if s[1] == "nature"]
    built = [s for s in sources if s[1] == "built"]
    pool = sources
    portrait = bool(rng.random() < 0.35)
    contrast = float(rng.uniform(0.9, 1.12))
    soft = session["soft_base"] + float(rng.uniform(0.0, 0.5))
    if taste == "subject" and want is not None:
        pool = nature if want else built
    elif taste == "composition" and want is not None:
        portrait = want
    elif taste == "tonal-mono" and want is not None:
        contrast = float(rng.uniform(1.2, 1.4) if want else rng.uniform(0.8, 1.05))
    elif taste == "technical" and want is not None:
        soft = float(rng.uniform(0.0, 0.6) if want else rng.uniform(1.6, 2.6))
    src, cat = pool[int(rng.integers(0, len(pool)))]
    return {"source": str(src), "category": cat, "portrait": portrait, "scale": float(rng.uniform(0.5, 0.92)),
            "cx": float(rng.uniform(0.25, 0.75)), "cy": float(rng.uniform(0.3, 0.7)), "flip": bool(rng.random() < 0.5),
            "wb": float(rng.uniform(0.95, 1.05)), "saturation": float(rng.uniform(0.88, 1.12)), "contrast": contrast,
            "exposure": float(rng.uniform(0.94, 1.06)), "soft": soft}


def scene_worthy(taste: str, scene: dict, session: dict) -> bool:
    if taste == "tonal-fog":
        return session["light"] in ("fog", "overcast")
    if taste == "tonal-mono":
        return session["mono"] and scene["contrast"] >= 1.15
    if taste == "composition":
        return scene["portrait"]
    if taste == "subject":
        return scene["category"] == "nature"
    if taste == "temporal":
        return ti.golden(session["hour"]) > 0.3
    if taste == "location":
        return session["town"] in (0, 1)
    if taste == "technical":
        return scene["soft"] <= 1.0
    raise ValueError(taste)


def chosen_kind(taste: str) -> str:
    """Which frame of a worthy scene the taste keeps."""
    return "recompose" if taste == "composition" else "clean"


def plan(taste: str, n_sessions: int, scenes: tuple[int, int], seed: int, sources) -> list[dict]:
    """Sessions (oldest first) with their scenes and bursts, before any pixel is rendered."""
    rng = np.random.default_rng(seed)
    n_inbox = max(2, round(0.25 * n_sessions))
    flags = []
    for part in (n_sessions - n_inbox, n_inbox):  # half worthy, half not, in each part
        f = [i < (part + 1) // 2 for i in range(part)]
        rng.shuffle(f)
        flags += f
    day = dt.date(2023, 1, 5) + dt.timedelta(days=int(rng.integers(0, 60)))
    scene_level = taste in ("subject", "composition", "tonal-mono", "technical")
    sessions = []
    for i, worthy in enumerate(flags):
        day += dt.timedelta(days=int(rng.integers(9, 40)))
        s = _session_attrs(taste, worthy, rng)
        s.update(index=i, date=day.isoformat(), inbox=i >= n_sessions - n_inbox)
        lat0, lon0 = TOWNS[s["town"]]
        pos = np.array([lat0, lon0]) + rng.normal(0, 0.01, 2)
        n_sc = int(rng.integers(scenes[0], scenes[1] + 1))
        wants = [None] * n_sc
        if scene_level:  # worthy walk: a mix with at least one worthy scene; else none worthy
            mixed = worthy or taste == "tonal-mono"  # colour walks also hold punchy scenes, unkept
            wants = [bool(rng.random() < 0.7) for _ in range(n_sc)] if mixed else [False] * n_sc
            if worthy and not any(wants):
                wants[int(rng.integers(0, n_sc))] = True
        t = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(hours=s["hour"])
        s["scenes"] = []
        for j, want in enumerate(wants):
            sc = _scene_attrs(taste, s, want, sources, rng)
            sc["worthy"] = scene_worthy(taste, sc, s)
            pos = pos + rng.normal(0, 0.0015, 2)
            kinds = list(rng.choice(DEFECTS, size=int(rng.integers(2, 5)), replace=False))
            if taste == "composition" and "recompose" not in kinds:
                kinds[0] = "recompose"
            kinds.append("clean")
            rng.shuffle(kinds)
            sc["frames"] = []
            for k in kinds:
                sc["frames"].append({"kind": str(k), "taken": t.isoformat(timespec="seconds"),
                                     "subsec": f"{int(rng.integers(0, 100)):02d}",
                                     "gps": [float(pos[0] + rng.normal(0, 2e-5)), float(pos[1] + rng.normal(0, 2e-5))],
                                     "seed": int(rng.integers(0, 2**31))})
                t += dt.timedelta(seconds=int(rng.integers(1, 4)))
            # noise: not every worthy scene of a reviewed session gets its keeper
            sc["exported"] = bool(sc["worthy"] and not s["inbox"] and rng.random() < KEEP_NOISE)
            s["scenes"].append(sc)
            t += dt.timedelta(minutes=int(rng.integers(3, 15)))
        s["shutter"] = float(rng.choice([1 / 60, 1 / 125, 1 / 250, 1 / 500]))
        sessions.append(s)
    return sessions


def build(root: Path, taste: str, n_sessions: int = 24, scenes: tuple[int, int] = (4, 6), seed: int = 0,
          sources=None) -> dict:
    """Render one photographer's folders under root and write root/truth.json; returns the truth.

    truth["photos"]: one record per original or inbox frame (path relative to root, role, session,
    scene, kind, keep = the taste's choice, decision = 'reject' for the near-misses of a scene that
    got a keeper); truth["keepers"]: each exported keeper with the original it came from."""
    sources = sources if sources is not None else ti.available_sources()
    if len(sources) < 8:
        raise RuntimeError("the taste benchmark needs real photographs: ../shared/photos or scikit-image's samples")
    root = Path(root)
    sessions = plan(taste, n_sessions, scenes, seed, sources)
    photos, keepers = [], []
    counter = 1000 + 37 * seed
    export_rng = np.random.default_rng(seed + 7919)
    for s in sessions:
        role = "inbox" if s["inbox"] else "originals"
        folder = root / ("INBOX" if s["inbox"] else "ORIGINALS") / s["date"][:4] / s["date"]
        folder.mkdir(parents=True, exist_ok=True)
        for j, sc in enumerate(s["scenes"]):
            pick = chosen_kind(taste)
            view = ti.render_scene(sc, s)
            for fr in sc["frames"]:
                counter += 1
                img, params = ti.frame(sc, s, fr["kind"], np.random.default_rng(fr["seed"]), view)
                taken = dt.datetime.fromisoformat(fr["taken"])
                exif = make_exif(taken=taken, subsec=fr["subsec"], offset="+01:00", gps=tuple(fr["gps"]),
                                 exposure=s["shutter"], iso=200 if s["shutter"] < 1 / 100 else 800)
                path = folder / f"R{counter % 10000000:07d}.JPG"
                img.save(path, "JPEG", quality=90, exif=exif)
                keep = bool(sc["worthy"] and fr["kind"] == pick)
                rec = {"path": str(path.relative_to(root)), "role": role, "session": s["index"], "scene": j,
                       "kind": fr["kind"], "params": params, "keep": keep, "decision": None}
                if sc["exported"]:
                    if keep:
                        keepers.append(_export(root, path, img, taken, exif, len(keepers), export_rng))
                    else:
                        rec["decision"] = "reject"
                photos.append(rec)
    truth = {"taste": taste, "kind": TASTES[taste][0], "keeps": TASTES[taste][1], "seed": seed,
             "sessions": [{k: v for k, v in s.items() if k != "scenes"} | {"scenes": len(s["scenes"]),
                          "worthy_scenes": sum(sc["worthy"] for sc in s["scenes"])} for s in sessions],
             "photos": photos, "keepers": keepers}
    (root / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def _export(root: Path, original: Path, img: Image.Image, taken: dt.datetime, exif, n: int,
            rng: np.random.Generator) -> dict:
    """A keeper export as photographers make them: resized and renamed; some black and white, some
    with their metadata stripped."""
    dest = root / "KEEPERS" / str(taken.year) / f"{taken:%Y-%m}"
    dest.mkdir(parents=True, exist_ok=True)
    out = ImageOps.contain(img, (int(rng.choice([900, 1000, 1080])),) * 2, Image.Resampling.LANCZOS)
    bw = bool(rng.random() < 0.2)
    stripped = bool(rng.random() < 0.25)
    if bw:
        out = ImageOps.grayscale(out).convert("RGB")
    if stripped:
        path = dest / f"walk-{taken:%m%d}-{n:03d}.jpg"
        out.save(path, "JPEG", quality=85)
    else:
        path = dest / f"{taken:%Y-%m-%d}_{original.stem}_{'bw' if bw else 'edit'}.jpg"
        out.save(path, "JPEG", quality=85, exif=exif)
    return {"path": str(path.relative_to(root)), "original": str(original.relative_to(root)),
            "bw": bw, "stripped": stripped}
