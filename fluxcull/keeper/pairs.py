"""Training pairs for the pairwise keeper ranker, and the next pair worth asking the photographer.

Each pair says "a is more likely a keeper than b" and carries a weight. Per positive (keeper),
negatives are drawn (spec section 5: hard pairs carry the taste, far pairs are easy):
- `close`: the visually closest non-keepers of the same session (near-duplicates, the real choice),
- `session`: other non-keepers of the same session,
- `time`: non-keepers shot within `time_window_days` (other sessions),
- `random`: any non-keeper (easy pairs: they anchor the global scale).
Near-misses (photos marked reject) are paired with keepers of their session (else random keepers)
with weight `reject`; explicit side-by-side choices are pairs of weight `preference`. Every pair's
weight is also multiplied by its two photos' weights from their stars (`weight`, fluxcull.keeper.stars).
The number of negatives per keeper shrinks as keepers grow, so the pair count stays bounded from a
cold start (tens of keepers) to 15,000 keepers among 400,000 photos; the class imbalance (a few %
keepers) does not matter to a pairwise loss, each pair holds one of each.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass

import numpy as np

from fluxcull.catalog.settings import read_text

SETTING_KEY = "model.pairs"


@dataclass
class PairConfig:
    close: float = 2.0        # weight of a same-session, visually close pair
    session: float = 1.0      # weight of another same-session pair
    time: float = 0.7         # weight of a pair shot nearby in time (other session)
    random: float = 0.3       # weight of a random (easy) pair
    reject: float = 3.0       # weight of a (keeper, rejected near-miss) pair
    preference: float = 4.0   # weight of an explicit side-by-side choice
    decided: float = 1.5      # multiplier for pairs whose keeper was marked keep (recent taste)
    time_window_days: float = 30.0
    target_pairs: int = 300_000   # total pairs aimed for; per-keeper counts follow from it
    min_per_keeper: int = 16
    max_per_keeper: int = 256
    share_close: float = 0.25
    share_session: float = 0.25
    share_time: float = 0.2   # the rest is random

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "PairConfig":
        text = read_text(conn, SETTING_KEY)
        cfg = cls()
        if text is not None:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"setting {SETTING_KEY} is not valid JSON: {exc}") from exc
            for k, v in data.items():
                if not hasattr(cfg, k):
                    raise ValueError(f"setting {SETTING_KEY}: unknown key {k!r} (have {', '.join(asdict(cfg))})")
                setattr(cfg, k, type(getattr(cfg, k))(v))
        return cfg

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pairs:
    a: np.ndarray  # int64 positions (preferred)
    b: np.ndarray  # int64 positions
    w: np.ndarray  # float32 weights
    kind: np.ndarray  # int8 pair kind (index into KINDS)

    def counts(self) -> dict:
        return {k: int((self.kind == i).sum()) for i, k in enumerate(KINDS)}

    def __len__(self) -> int:
        return len(self.a)


KINDS = ("close", "session", "time", "random", "reject", "preference")


def build_pairs(
    *,
    label: np.ndarray,
    reject: np.ndarray,
    decided_keep: np.ndarray,
    session: np.ndarray,
    time: np.ndarray,
    emb: np.ndarray | None,
    train: np.ndarray,
    preferences: list[tuple[int, int]] = (),
    preference_ok: np.ndarray | None = None,
    cfg: PairConfig | None = None,
    seed: int = 0,
    weight: np.ndarray | None = None,
) -> Pairs:
    """Pairs among the positions where `train` is true.

    label: 1 keeper / 0 non-keeper / -1 unlabelled (never paired, except through preferences);
    emb: per-position vectors for visual closeness (any fixed projection; cosine on rows), or None;
    preferences: (winner, loser) positions, used where both photos are in `preference_ok` (default:
    `train`; a side-by-side choice is often between photos that have no label of their own).
    """
    cfg = cfg or PairConfig()
    rng = np.random.default_rng(seed)
    train = np.asarray(train, bool)
    pos = np.flatnonzero(train & (label == 1))
    neg = np.flatnonzero(train & (label == 0))
    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    out_w: list[np.ndarray] = []
    out_k: list[np.ndarray] = []

    def add(a, b, w, kind):
        a = np.asarray(a, np.int64)
        if len(a):
            out_a.append(a)
            out_b.append(np.asarray(b, np.int64))
            out_w.append(np.broadcast_to(np.asarray(w, np.float32), a.shape).astype(np.float32))
            out_k.append(np.full(len(a), KINDS.index(kind), np.int8))

    if len(pos) and len(neg):
        per = int(np.clip(cfg.target_pairs // max(len(pos), 1), cfg.min_per_keeper, cfg.max_per_keeper))
        k_close = int(round(per * cfg.share_close))
        k_sess = int(round(per * cfg.share_session))
        k_time = int(round(per * cfg.share_time))
        k_rand = max(per - k_close - k_sess - k_time, 1)
        boost = np.where(decided_keep, cfg.decided, 1.0).astype(np.float32)
        shortfall = np.zeros(len(pos), np.int64)  # same-session pairs a keeper could not get

        # -- same session: close + other --------------------------------------------------------
        neg_by_sess = _group_index(session[neg])
        for sess_key, pidx_local in _group_index(session[pos]).items():
            p = pos[pidx_local]
            negs = neg_by_sess.get(sess_key)
            if negs is None:
                shortfall[pidx_local] += k_close + k_sess
                continue
            n = neg[negs]
            kc = min(k_close, -(-len(n) // 4))  # the closest quarter of the session at most
            if kc and emb is not None:
                sims = _unit(emb[p]) @ _unit(emb[n]).T  # cosine (|p| x |n|)
                if kc < len(n):
                    top = np.argpartition(-sims, kc - 1, axis=1)[:, :kc]
                else:
                    top = np.broadcast_to(np.arange(len(n)), (len(p), len(n)))
                add(np.repeat(p, kc), n[top].ravel(), np.repeat(cfg.close * boost[p], kc), "close")
            elif kc:
                pick = rng.integers(0, len(n), size=(len(p), kc))
                add(np.repeat(p, kc), n[pick].ravel(), np.repeat(cfg.close * boost[p], kc), "close")
            ks = min(k_sess, len(n))
            if ks:
                pick = rng.integers(0, len(n), size=(len(p), ks))
                add(np.repeat(p, ks), n[pick].ravel(), np.repeat(cfg.session * boost[p], ks), "session")
            shortfall[pidx_local] += (k_close - kc) + (k_sess - ks)

        # -- nearby in time (any session) ---------------------------------------------------------
        t_ok = np.isfinite(time[neg])
        if k_time and t_ok.any():
            nt_idx = neg[t_ok]
            order = np.argsort(time[nt_idx], kind="stable")
            nt_idx = nt_idx[order]
            nt = time[nt_idx]
            pt = time[pos]
            has_t = np.isfinite(pt)
            win = cfg.time_window_days * 86400.0
            lo = np.searchsorted(nt, np.where(has_t, pt - win, 0), side="left")
            hi = np.searchsorted(nt, np.where(has_t, pt + win, 0), side="right")
            width = np.where(has_t, hi - lo, 0)
            ok = width > 0
            pk = pos[ok]
            draw = (rng.random((len(pk), k_time)) * width[ok][:, None]).astype(np.int64) + lo[ok][:, None]
            add(np.repeat(pk, k_time), nt_idx[draw].ravel(), np.repeat(cfg.time * boost[pk], k_time), "time")
            shortfall[~ok] += k_time
        else:
            shortfall += k_time

        # -- random (plus whatever the session/time draws could not provide) ----------------------
        counts = k_rand + shortfall
        pk = np.repeat(pos, counts)
        add(pk, neg[rng.integers(0, len(neg), size=len(pk))], cfg.random * boost[pk], "random")

    # -- near-misses: rejected photos against keepers of their session, else any keeper -----------
    rej = np.flatnonzero(train & reject & (label == 0))
    if len(rej) and len(pos):
        pos_by_sess = _group_index(session[pos])
        k = 8
        for r in rej:
            ps_idx = pos_by_sess.get(int(session[r]))
            cands = pos[ps_idx] if ps_idx is not None else pos
            pick = cands if len(cands) <= k else cands[rng.choice(len(cands), k, replace=False)]
            add(pick, np.full(len(pick), r), cfg.reject * boost[pick], "reject")

    # -- explicit choices ---------------------------------------------------------------------------
    if len(preferences):
        pr = np.asarray(preferences, np.int64).reshape(-1, 2)
        okp = (pr >= 0).all(axis=1)
        pr = pr[okp]
        ok = train if preference_ok is None else np.asarray(preference_ok, bool)
        pr = pr[ok[pr[:, 0]] & ok[pr[:, 1]]]
        add(pr[:, 0], pr[:, 1], cfg.preference, "preference")

    if not out_a:
        z = np.zeros(0, np.int64)
        return Pairs(z, z.copy(), np.zeros(0, np.float32), np.zeros(0, np.int8))
    a, b, w = np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_w)
    if weight is not None:
        w = (w * weight[a] * weight[b]).astype(np.float32)
    return Pairs(a, b, w, np.concatenate(out_k))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def _group_index(keys: np.ndarray) -> dict[int, np.ndarray]:
    """key -> positions (into keys) holding it."""
    if len(keys) == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    ends = np.r_[starts[1:], len(sk)]
    return {int(sk[s]): order[s:e] for s, e in zip(starts, ends)}


# -- the compare view: which pair would teach the model most -------------------------------------------
def next_informative_pair(conn: sqlite3.Connection, session_id: int | None = None, *,
                          group_of: dict[int, int] | None = None,
                          only_group: int | None = None) -> tuple[int, int] | None:
    """Two undecided photos of the same session whose scores are close and near the model's boundary.

    With `group_of` (photo id -> group, e.g. its burst), both photos must be of one group (a photo
    missing from it is a group of its own); with `only_group`, of that group.

    The cost of a candidate pair is |score_a - score_b| + |mean score - 0.5|: close scores say the
    model cannot order them, a mean near 0.5 says it cannot tell whether either is a keeper. Pairs
    already compared (and not undone) are skipped. Returns None when no pair is left.
    """
    from fluxcull.catalog.decisions import active_preferences
    from fluxcull.catalog.keeper_reads import undecided_scored_rows

    done = {(min(a, b), max(a, b)) for a, b in active_preferences(conn)}
    for lo, hi in ((0.25, 0.85), (0.05, 0.97), (0.0, 1.0)):
        rows = undecided_scored_rows(conn, lo, hi, session_id)
        if group_of is not None:  # the group takes the session's place: pairs never cross groups
            rows = [(r[0], group_of.get(r[0], -r[0]), r[2]) for r in rows]
            if only_group is not None:
                rows = [r for r in rows if r[1] == only_group]
        best = _best_pair(rows, done)
        if best is not None:
            return best
    return None


def _best_pair(rows, done: set) -> tuple[int, int] | None:
    if len(rows) < 2:
        return None
    arr = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.float64)
    order = np.lexsort((arr[:, 0], arr[:, 2], arr[:, 1]))  # by session, then score, then id
    ids, sess, sc = arr[order, 0].astype(np.int64), arr[order, 1], arr[order, 2]
    candidates = []
    for gap in (1, 2, 3):  # neighbours in score order within a session; wider if those were compared
        if len(ids) <= gap:
            break
        same = sess[gap:] == sess[:-gap]
        i = np.flatnonzero(same)
        cost = np.abs(sc[i + gap] - sc[i]) + np.abs((sc[i + gap] + sc[i]) / 2 - 0.5)
        candidates.append((cost, ids[i], ids[i + gap]))
    if not candidates:
        return None
    cost = np.concatenate([c[0] for c in candidates])
    a = np.concatenate([c[1] for c in candidates])
    b = np.concatenate([c[2] for c in candidates])
    for j in np.argsort(cost, kind="stable"):
        x, y = int(a[j]), int(b[j])
        if (min(x, y), max(x, y)) not in done:
            return (x, y)
    return None
