"""The XMP properties fluxcull owns and the values a photo's decision, stars, colour label and score
give them.

Decision fields (what other applications read):
  xmp:Rating         the photo's stars when it has some (1-5, fluxcull.catalog.ratings), else for a keep
                     `keep_rating` stars (default 3; a higher rating already there stays); a reject
                     writes -1 (rejected, as Lightroom, Bridge and darktable read it) whatever its stars
  xmp:Label          the photo's colour label when it has one (Red, Yellow, Green, Blue, Purple, as
                     Lightroom names them), else keep: `keep_label` (default Green), reject:
                     `reject_label` (default Red); an empty setting leaves the label alone
  digiKam:ColorLabel the photo's colour label as digiKam numbers it (1 red, 3 yellow, 4 green, 5 blue,
                     6 magenta for purple); decisions never set it
  xmpDM:pick         keep 1, reject -1
  digiKam:PickLabel  keep 3 (accepted), reject 1 (rejected), undecided 2 (pending, only where none is set)
fluxcull fields (namespace FLUXCULL_NS, prefix fluxcull:), always written:
  fluxcull:Decision         keep, reject or none
  fluxcull:Stars            the photo's stars in fluxcull, 0-5 (0: none)
  fluxcull:ColorLabel       its colour label in fluxcull: red, yellow, green, blue, purple or none
  fluxcull:KeeperScore      the keeper score, 0.0000-1.0000 (absent when the photo is not scored)
  fluxcull:Band             the score's band: confirmed (1.0), high (0.8+), uncertain, low, unscored
  fluxcull:ConfirmedKeeper  True for an original linked from the keeper archive, else False

An undecided photo (exported with --all) takes back the decision fields an earlier export wrote for it
(a value equal to what fluxcull wrote for the decision its sidecar records), leaving anyone else's; in
the same way a photo whose stars or label were removed takes back the xmp:Rating, xmp:Label and
digiKam:ColorLabel its sidecar's fluxcull:Stars and fluxcull:ColorLabel say fluxcull wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from fluxcull.catalog.scores import band_of
from fluxcull.catalog.settings import EXPORT_XMP_DEFAULTS
from fluxcull.errors import InvalidValue

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NS = "http://ns.adobe.com/xap/1.0/"
XMPDM_NS = "http://ns.adobe.com/xmp/1.0/DynamicMedia/"
DIGIKAM_NS = "http://www.digikam.org/ns/1.0/"
FLUXCULL_NS = "http://ns.fluxcull.org/xmp/1.0/"
PREFIXES = {XMP_NS: "xmp", XMPDM_NS: "xmpDM", DIGIKAM_NS: "digiKam", FLUXCULL_NS: "fluxcull"}

Prop = tuple[str, str]  # (namespace URI, local name)
RATING: Prop = (XMP_NS, "Rating")
LABEL: Prop = (XMP_NS, "Label")
PICK: Prop = (XMPDM_NS, "pick")
PICK_LABEL: Prop = (DIGIKAM_NS, "PickLabel")
COLOR_LABEL: Prop = (DIGIKAM_NS, "ColorLabel")
DECISION: Prop = (FLUXCULL_NS, "Decision")
STARS: Prop = (FLUXCULL_NS, "Stars")
FX_LABEL: Prop = (FLUXCULL_NS, "ColorLabel")
SCORE: Prop = (FLUXCULL_NS, "KeeperScore")
BAND: Prop = (FLUXCULL_NS, "Band")
CONFIRMED: Prop = (FLUXCULL_NS, "ConfirmedKeeper")
OWNED: tuple[Prop, ...] = (RATING, LABEL, PICK, PICK_LABEL, COLOR_LABEL, DECISION, STARS, FX_LABEL, SCORE, BAND,
                           CONFIRMED)
PENDING = "2"  # digiKam's pick label "pending"
LABEL_NAMES = {"red": "Red", "yellow": "Yellow", "green": "Green", "blue": "Blue", "purple": "Purple"}  # xmp:Label
DIGIKAM_COLORS = {"red": "1", "yellow": "3", "green": "4", "blue": "5", "purple": "6"}  # digiKam:ColorLabel


def qname(prop: Prop) -> str:
    return f"{PREFIXES[prop[0]]}:{prop[1]}"


@dataclass(frozen=True)
class XmpPolicy:
    """How decisions read in XMP (the library's `export.xmp` setting, options overriding it)."""

    keep_rating: int = EXPORT_XMP_DEFAULTS["keep_rating"]
    keep_label: str = EXPORT_XMP_DEFAULTS["keep_label"]
    reject_label: str = EXPORT_XMP_DEFAULTS["reject_label"]

    @classmethod
    def from_setting(cls, value: dict | None, **overrides) -> "XmpPolicy":
        fields = ("keep_rating", "keep_label", "reject_label")
        merged = {k: v for k, v in (value or {}).items() if k in fields}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        policy = cls(**merged)
        if not 1 <= int(policy.keep_rating) <= 5:
            raise InvalidValue(f"the stars of a keep must be 1 to 5, not {policy.keep_rating}")
        return policy

    def marks(self, decision: str) -> dict[Prop, str | None]:
        """The decision fields of a keep or a reject (None: this policy writes no such field)."""
        if decision == "keep":
            return {RATING: str(int(self.keep_rating)), LABEL: self.keep_label or None, PICK: "1", PICK_LABEL: "3"}
        return {RATING: "-1", LABEL: self.reject_label or None, PICK: "-1", PICK_LABEL: "1"}


def _stars(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def target_values(photo: dict, current: dict[Prop, str], policy: XmpPolicy) -> dict[Prop, str | None]:
    """Every owned property's value once this photo is exported (None: absent), given what its sidecar
    says now (`current`, owned properties only)."""
    out: dict[Prop, str | None] = {p: current.get(p) for p in OWNED}
    decision = photo.get("decision") or "none"
    stars, label = int(photo.get("rating") or 0), photo.get("color_label") or None
    ours = current.get(STARS) not in (None, "0") and current.get(RATING) == current.get(STARS)  # our stars
    decided_label = False
    if decision in ("keep", "reject"):
        for prop, value in policy.marks(decision).items():
            if value is not None:
                out[prop] = value
        decided_label = policy.marks(decision)[LABEL] is not None
        held = _stars(current.get(RATING))
        if decision == "keep" and held is not None and policy.keep_rating < held <= 5 and not ours:
            out[RATING] = current[RATING]  # a keep never lowers a rating given elsewhere
    else:
        before = current.get(DECISION)
        if before in ("keep", "reject"):
            for prop, value in policy.marks(before).items():
                if value is not None and current.get(prop) == value:
                    out[prop] = None
        if out[PICK_LABEL] is None:
            out[PICK_LABEL] = PENDING
    if stars and decision != "reject":
        out[RATING] = str(stars)
    elif not stars and decision == "none" and ours and out[RATING] == current.get(RATING):
        out[RATING] = None  # the stars fluxcull wrote, since removed
    if label:
        out[LABEL], out[COLOR_LABEL] = LABEL_NAMES[label], DIGIKAM_COLORS[label]
    else:
        was = current.get(FX_LABEL)
        if was in LABEL_NAMES:  # the label fluxcull wrote, since removed: taken back where it still stands
            if not decided_label and out[LABEL] == current.get(LABEL) == LABEL_NAMES[was]:
                out[LABEL] = None
            if current.get(COLOR_LABEL) == DIGIKAM_COLORS[was]:
                out[COLOR_LABEL] = None
    score = photo.get("keeper_score")
    out[DECISION] = decision
    out[STARS] = str(stars)
    out[FX_LABEL] = label or "none"
    out[SCORE] = None if score is None else f"{float(score):.4f}"
    out[BAND] = band_of(score)
    out[CONFIRMED] = "True" if photo.get("linked") else "False"
    return out


def rating_written(photo: dict, policy: XmpPolicy) -> str:
    """The xmp:Rating an export writes into a new sidecar for this photo ('' for none): its stars, -1 for
    a reject, a keep's stars by the policy (the selection CSV of `fluxcull export files` shows it)."""
    return target_values(photo, {}, policy)[RATING] or ""
