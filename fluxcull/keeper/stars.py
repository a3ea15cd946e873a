"""Stars as training labels: how the photographer's 0-5 stars (fluxcull.catalog.ratings) change the
keeper model's labels and weights (the setting `training.stars`, declared in fluxcull.catalog.settings).

The rule, applied to the corpus after the labels from links and decisions (fluxcull.keeper.dataset):
- **keepers by stars**: a photo with at least `keeper_from` stars (default 3; 0 turns it off) is a
  keeper (a positive), even when it was never marked keep, unless it was rejected: a reject is the
  photographer's last word and stays a near-miss whatever its stars;
- **their weight**: every keeper with that many stars weighs `weight + per_star x (stars - keeper_from)`
  times more in training (defaults 2.0 and 0.5: 3 stars 2x, 4 stars 2.5x, 5 stars 3x), on top of
  what it had (a keep's 1.5x, `model.pairs` decided), so a starred photo always counts more than a
  bare keep, and a 5-star one more than a 3-star one;
- **weak negatives** (off by default: `negative_up_to` 0): photos with 1 to `negative_up_to` stars
  that are neither marked keep nor confirmed keepers are negatives weighing `negative_weight`
  (default 1.5: more than an implicit negative's 1, less than a reject's 3). Off by default because
  many photographers give one star to mean "a pick", not "a miss";
- an inbox session in which a photo got a label from its stars counts as reviewed, as one with a
  decision does (its other photos become implicit negatives).
Colour labels never teach the model: what a colour means is the photographer's own.

`apply_stars` returns the new labels, the per-photo weights (1.0 where stars change nothing: a library
without stars trains exactly as before) and where each label came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fluxcull.catalog.settings import TRAINING_STARS_DEFAULTS, get

SETTING = "training.stars"
POS, NEG, UNLABELLED = 1, 0, -1  # as fluxcull.keeper.dataset


@dataclass(frozen=True)
class StarRule:
    keeper_from: int = TRAINING_STARS_DEFAULTS["keeper_from"]
    weight: float = TRAINING_STARS_DEFAULTS["weight"]
    per_star: float = TRAINING_STARS_DEFAULTS["per_star"]
    negative_up_to: int = TRAINING_STARS_DEFAULTS["negative_up_to"]
    negative_weight: float = TRAINING_STARS_DEFAULTS["negative_weight"]

    @classmethod
    def from_settings(cls, conn) -> "StarRule":
        return cls(**{**TRAINING_STARS_DEFAULTS, **(get(conn, SETTING) or {})})

    def keeper_weight(self, stars: np.ndarray) -> np.ndarray:
        """The weight factor of keepers with these stars (each at least keeper_from)."""
        return (self.weight + self.per_star * (stars - self.keeper_from)).astype(np.float32)


def apply_stars(rule: StarRule, stars: np.ndarray, label: np.ndarray, reject: np.ndarray,
                decided_keep: np.ndarray, confirmed: np.ndarray, role: np.ndarray, group: np.ndarray):
    """(label, weight, from_stars) with the stars applied: `from_stars` is +1 where stars made a keeper,
    -1 where they made a negative, 0 elsewhere. Arrays are per corpus photo; `stars` 0-5."""
    label = label.copy()
    weight = np.ones(len(label), np.float32)
    from_stars = np.zeros(len(label), np.int8)
    if rule.keeper_from:
        starred = (stars >= rule.keeper_from) & ~reject
        from_stars[starred & (label != POS)] = 1
        label[starred] = POS
        weight[starred] = rule.keeper_weight(stars[starred])
    if rule.negative_up_to:
        weak = (stars >= 1) & (stars <= rule.negative_up_to) & ~reject & ~decided_keep & ~confirmed & (label != POS)
        from_stars[weak & (label != NEG)] = -1
        label[weak] = NEG
        weight[weak] = rule.negative_weight
    # an inbox session whose photos got labels from stars has been looked at: its other photos are negatives
    reviewed = np.unique(group[(role == "inbox") & (from_stars != 0)])
    label[(role == "inbox") & (label == UNLABELLED) & np.isin(group, reviewed)] = NEG
    return label, weight, from_stars
