"""The keeper model's reasons in a photographer's words.

Each model input that moved a score is said as a short phrase: context inputs compare the photo
with its burst or session ("sharpest of its 5-frame burst", "darker than the rest of this
session"), absolute ones name the quality ("the time of day", "its noise"), the embedding says
whether the photo looks like the keepers. A phrase comes with whether it counts for or against
keeping the photo.
"""

from __future__ import annotations

import math

from fluxcull.catalog.scores import score_text

# feature -> (comparative up, comparative down, superlative up, superlative down, noun)
ADJECTIVES = {
    "sharpness_laplacian": ("sharper", "softer", "sharpest", "softest", "sharpness"),
    "sharpness_edge": ("sharper", "softer", "sharpest", "softest", "sharpness"),
    "brightness": ("brighter", "darker", "brightest", "darkest", "brightness"),
    "highlights_clipped": ("more blown highlights", "fewer blown highlights", "most blown highlights",
                           "fewest blown highlights", "blown highlights"),
    "shadows_clipped": ("more crushed shadows", "fewer crushed shadows", "most crushed shadows",
                        "fewest crushed shadows", "crushed shadows"),
    "contrast_rms": ("more contrasty", "flatter", "most contrasty", "flattest", "contrast"),
    "dynamic_range": ("wider in tonal range", "narrower in tonal range", "widest in tonal range",
                      "narrowest in tonal range", "tonal range"),
    "haze": ("hazier", "clearer", "haziest", "clearest", "haze"),
    "colorfulness": ("more colourful", "less colourful", "most colourful", "least colourful", "colour"),
    "saturation": ("more saturated", "less saturated", "most saturated", "least saturated", "saturation"),
    "monochrome": ("more black-and-white", "more colourful", "only black-and-white frame",
                   "only colour frame", "black and white"),
    "noise_sigma": ("noisier", "cleaner", "noisiest", "cleanest", "noise"),
    "aspect_log2": ("wider in format", "taller in format", "widest in format", "tallest in format", "format"),
    "sharpness_reblur": ("crisper", "softer", "crispest", "softest", "fine detail"),
    "tilt_degrees": ("more crooked", "straighter", "most crooked", "straightest", "level"),
    "sharpness_per_contrast": ("crisper", "softer", "crispest", "softest", "focus"),
    "contrast_per_brightness": ("punchier", "flatter", "punchiest", "flattest", "tonal punch"),
    "exposure_log2": ("brighter", "darker", "brightest", "darkest", "exposure"),
}
NOUNS = {
    "hour_sin": "the time of day", "hour_cos": "the time of day", "season_sin": "the season",
    "season_cos": "the season", "focal_35mm": "the focal length", "aperture": "the aperture",
    "shutter_log2": "the shutter speed", "iso_log2": "the ISO", "subject_distance_log10": "the focus distance",
    "gps_x": "the place", "gps_y": "the place", "gps_z": "the place", "gps_cell": "the place",
    "session_position": "when in the session it was taken", "session_length_log2": "the length of the session",
    "megapixels_log2": "the resolution", "bursts_in_session_log2": "how many scenes the session holds",
    "burst_position": "its place in its burst", "line_strength": "its straight lines",
}
ROTATED_DEGREES = 1.5  # from here a frame reads as turned against its burst
PHRASES = 5


def _phrase(name: str, value, burst_size: int) -> str | None:
    if name == "appearance (embedding)":
        return None  # said from the contribution's sign by the caller
    for feat, (up, down, most, least, noun) in ADJECTIVES.items():
        if not name.startswith(feat):
            continue
        rest = name[len(feat):]
        if value is None:
            return f"its {noun} is unknown"
        if rest in ("", "_missing"):
            return f"its {noun}"
        group = "burst" if rest.endswith("_burst") else "session"
        where = f"its {burst_size}-frame burst" if group == "burst" else "this session"
        if group == "burst" and burst_size <= 1:
            return None
        if "_rank_" in rest:
            # a burst's ranks are soft (fluxcull.keeper.context): 0.95 is clearly above every mate
            edge = 0.05 if group == "burst" else 0.001
            if value >= 1.0 - edge:
                return f"{most} of {where}"
            if value <= edge:
                return f"{least} of {where}"
            return f"{up if value > 0.5 else down} than most of {where}"
        if abs(value) < 1e-9:
            return f"typical {noun} for {where}"
        return f"{up if value > 0 else down} than the rest of {where}"
    if name == "burst_size_log2":
        return "a single frame" if value is not None and value < 0.5 else f"one of a {burst_size}-frame burst"
    if name == "burst_typical":
        return "the most typical frame of its burst" if value and value > 0.5 else "not the most typical frame of its burst"
    if name == "burst_sim":
        return "looks like the rest of its burst" if value is not None and value >= 0.9 else "stands out in its burst"
    if name == "rotation_vs_burst":
        if value is None or burst_size <= 1:
            return None
        if value >= ROTATED_DEGREES:
            return f"turned {value:.0f}\N{DEGREE SIGN} against the rest of its burst"
        return "level with the rest of its burst"
    if name == "session_sim":
        return "looks like the rest of this session" if value is not None and value >= 0.7 else "stands out in this session"
    base = name[:-len("_missing")] if name.endswith("_missing") else name
    return NOUNS.get(base)


def in_words(contributions: list[dict], values: dict, burst_size: int) -> list[dict]:
    """[{text, effect: 'for' | 'against', contribution}] for the strongest reasons, strongest first."""
    out, seen = [], set()
    for c in contributions:
        if not c["contribution"] or not math.isfinite(c["contribution"]):
            continue
        name = c["input"]
        effect = "for" if c["contribution"] > 0 else "against"
        if name == "appearance (embedding)":
            text = "looks like your keepers" if effect == "for" else "looks unlike your keepers"
        else:
            text = _phrase(name, values.get(name), burst_size)
        if name == "rotation_vs_burst" and text and (text.startswith("level") != (effect == "for")):
            # a level frame pulled down (or a crooked one pushed up) by how its burst-mates lean: in
            # words it would read as a fault of being level; the model's real reasons come first anyway
            continue
        if not text or text in seen:
            continue
        seen.add(text)
        out.append({"text": text, "effect": effect, "contribution": c["contribution"]})
        if len(out) == PHRASES:
            break
    return out


def explanation_lines(r: dict) -> list[str]:
    """An explain() report as lines a photographer reads: the score and the rule behind it, then the
    model's reasons for and against, the burst, and the nearest keepers."""
    score = "no score yet" if r.get("score") is None else f"{score_text(r['score'])} ({r.get('band', '')})"
    lines = [f"Keeper score {score}: {r.get('reason', '')}."]
    if r.get("model_score") is not None:
        share = math.floor(100 * r.get("corpus_rank", 0))
        where = "every photo" if share >= 100 else f"{share}% of the photos"
        lines.append(f"The model alone says {score_text(r['model_score'])}: it scores above {where} it learned from.")
        pros = [w["text"] for w in r.get("in_words", []) if w["effect"] == "for"]
        cons = [w["text"] for w in r.get("in_words", []) if w["effect"] == "against"]
        if pros:
            lines.append("For keeping it: " + "; ".join(pros) + ".")
        if cons:
            lines.append("Against: " + "; ".join(cons) + ".")
        burst = r.get("burst") or {}
        if burst.get("size", 1) > 1:
            lines.append(f"One of a {burst['size']}-frame burst.")
        near = r.get("nearest_keepers") or []
        if near:
            lines.append("Looks most like your keepers: " + ", ".join(
                f"{k['path'].rsplit('/', 1)[-1]} ({k['similarity']:.2f})" for k in near[:3]) + ".")
    elif r.get("note"):
        lines.append(r["note"][0].upper() + r["note"][1:] + ".")
    return lines


BAND_WORDS = {
    "confirmed": "a keeper (1.0)", "high": "a probable keeper (0.8 or more)", "uncertain": "uncertain (0.5–0.8)",
    "low": "probably not a keeper (below 0.5)", "unscored": "not scored yet",
}
BAND_HEADLINE = {"confirmed": "a keeper", "high": "a probable keeper", "uncertain": "uncertain",
                 "low": "probably not a keeper", "unscored": "not scored yet"}
MODEL_LABELS = {"gbt": "gradient-boosted trees", "linear": "pairwise linear ranker",
                "mlp": "pairwise neural ranker", "centroid": "keeper centroid"}


def _file_name(path: str | None) -> str:
    return (path or "").replace("\\", "/").rsplit("/", 1)[-1]


def rule_sentence(r: dict) -> str:
    """Which rule set the score, as a photographer reads it."""
    reason = r.get("reason") or ""
    model = r.get("model") or {}
    if reason == "marked keep":
        return "Set by your decision: you marked it keep (P), so it scores 1.0."
    if reason == "marked reject":
        return "Set by your decision: you marked it reject (X), so it scores 0.0."
    if reason.startswith("confirmed keeper"):
        return "Set by your keeper archive: a keeper you exported comes from this original, so it scores 1.0."
    if reason == "unreadable file":
        return "Set by a technical check: the file cannot be read, so it scores 0.0."
    if reason.startswith("technical failure"):
        what = reason.split(":", 1)[-1].strip()
        return f"Set by a technical check: {what}, so it scores 0.0."
    if reason == "in the keeper archive":
        return "A file of your keeper archive: the originals are scored, not the exports."
    label = MODEL_LABELS.get(model.get("kind"), model.get("kind") or "keeper model")
    version = f", version {model['version']}" if model.get("version") is not None else ""
    return f"Set by the keeper model ({label}{version}): how likely you are to keep it, learned from your keepers."


def explain_view(r: dict) -> dict:
    """An explain() report as a photographer's panel: {title, headline, rule, model_line, for, against,
    burst, nearest: [{id, name, similarity}], details}. No raw report: the details are numbers in lines."""
    name = _file_name(r.get("path")) or "this photo"
    score = r.get("score")
    band = r.get("band") or "unscored"
    reason = r.get("reason") or ""
    if score is None:
        headline = f"{name}: not scored yet"
    elif reason.startswith("technical failure"):
        headline = f"{name}: keeper score {score_text(score)}, a technical failure ({reason.split(':', 1)[-1].strip()})"
    elif reason == "unreadable file":
        headline = f"{name}: keeper score {score_text(score)}, the file cannot be read"
    else:  # the score is shown: the band in words, without repeating its number
        headline = f"{name}: keeper score {score_text(score)}, {BAND_HEADLINE.get(band, band)}"
    out = {"title": f"Why {name} scores as it does", "headline": headline, "rule": rule_sentence(r),
           "model_line": "", "for": [], "against": [], "burst": "", "nearest": [], "details": ""}
    if r.get("model_score") is not None:
        share = math.floor(100 * r.get("corpus_rank", 0))
        where = "every photo" if share >= 100 else f"{share}% of the photos"
        model_says = f"The model says {score_text(r['model_score'])}: it ranks this photo above {where} it learned from."
        out["model_line"] = model_says if (r.get("reason") == "keeper model") else (
            "On its own, the model would say " + model_says.split("says ", 1)[1])
        out["for"] = [w["text"] for w in r.get("in_words", []) if w["effect"] == "for"]
        out["against"] = [w["text"] for w in r.get("in_words", []) if w["effect"] == "against"]
        burst = r.get("burst") or {}
        if burst.get("size", 1) > 1:
            out["burst"] = f"One of a {burst['size']}-frame burst (frames of one scene, seconds apart)."
        out["nearest"] = [{"id": k["id"], "name": _file_name(k.get("path")), "similarity": k["similarity"]}
                          for k in (r.get("nearest_keepers") or [])]
    elif r.get("note"):
        out["model_line"] = r["note"][0].upper() + r["note"][1:] + "."
    lines = []
    if r.get("model_score") is not None:
        lines.append(f"Model score {r['model_score']:.3f}; ranked above {100 * r.get('corpus_rank', 0):.1f}% of the "
                     "photos it learned from.")
    contribs = r.get("contributions") or []
    if contribs:
        lines.append("What moved the model's score most (positive: towards keeping it):")
        size = (r.get("burst") or {}).get("size", 1)
        values = r.get("features") or {}
        for c in contribs:
            if c["input"] == "appearance (embedding)":
                what = "how it looks (the image as a whole)"
            else:
                what = _phrase(c["input"], values.get(c["input"], c.get("value")), size) or c["input"].replace("_", " ")
            val = "" if c.get("value") is None else f"  (measured {c['value']:.3g})"
            lines.append(f"  {c['contribution']:+.3f}  {what}{val}")
    for k in out["nearest"]:
        lines.append(f"Like your keeper {k['name']}: similarity {k['similarity']:.2f} (1 = the same picture).")
    out["details"] = "\n".join(lines)
    return out
