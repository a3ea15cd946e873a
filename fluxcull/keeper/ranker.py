"""The keeper scorers: model inputs, a pairwise (RankNet / Bradley-Terry) linear or MLP scorer, and
the centroid score.

Inputs per photo: the L2-normalised embedding, centred and projected on its top principal
components (fitted on the corpus, no labels), then the technical/metadata features (log-scaled
where heavy-tailed, standardised, clipped, NaN imputed as 0 with an explicit missing indicator).

Training (torch, CPU or GPU, deterministic for a seed) minimises the weighted pairwise logistic
loss  w * log(1 + exp(-(s(a) - s(b))))  over (preferred a, other b) pairs. Scoring runs in numpy on
the exported arrays, so scoring and explaining never import torch.
"""

from __future__ import annotations

import threading

import numpy as np

from fluxcull.keeper.one_cycle import AdamWOneCycle

_TORCH_FIT = threading.Lock()

KINDS = ("linear", "mlp", "centroid", "gbt")
# features that are codes, not quantities (a location cell number): not model inputs
CATEGORICAL = ("gps_cell",)
MAX_COMPONENTS = 256
PAIR_VISITS = 1_000_000  # pairs seen per training (epochs = this / pairs, within 3..40)
CLIP = 6.0


class InputTransform:
    """Embedding projection + feature standardisation, as plain arrays (saved with the model)."""

    def __init__(self, arrays: dict[str, np.ndarray], feature_names: list[str]):
        self.a = arrays
        self.feature_names = list(feature_names)

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(cls, emb_sample: np.ndarray, feats: np.ndarray, feature_names: list[str],
            n_components: int = MAX_COMPONENTS) -> "InputTransform":
        """emb_sample: L2-normalised embeddings (a corpus sample); feats: inputs of the corpus (or a sample)."""
        return cls.fit_projection(emb_sample, n_components).fit_features(feats, feature_names)

    @classmethod
    def fit_projection(cls, emb_sample: np.ndarray, n_components: int = MAX_COMPONENTS) -> "InputTransform":
        """The embedding half only (principal components of a corpus sample); `fit_features` completes it."""
        emb_sample = np.asarray(emb_sample, np.float32)
        n, d = emb_sample.shape
        mean = emb_sample.mean(axis=0)
        xc = emb_sample - mean
        k = int(max(1, min(n_components, d, n - 1 if n > 1 else 1)))
        cov = (xc.T @ xc) / max(n - 1, 1)
        evals, evecs = np.linalg.eigh(cov.astype(np.float64))
        order = np.argsort(evals)[::-1][:k]
        comps = evecs[:, order].astype(np.float32)
        # deterministic sign: the largest-magnitude loading of each component is positive
        flip = np.sign(comps[np.argmax(np.abs(comps), axis=0), np.arange(k)])
        comps *= np.where(flip == 0, 1, flip)
        scale = float(np.sqrt(max(evals[order[0]], 1e-12))) if len(order) else 1.0
        arrays = {"emb_mean": mean.astype(np.float32), "emb_components": comps, "emb_scale": np.float32(scale)}
        return cls(arrays, [])

    def fit_features(self, feats: np.ndarray, feature_names: list[str]) -> "InputTransform":
        """Standardisation of the per-photo inputs (log scale for heavy tails, centre, scale, clip,
        missing indicators); returns self."""
        f = np.asarray(feats, np.float32)
        nf = f.shape[1]
        logc = np.zeros(nf, bool)
        center = np.zeros(nf, np.float32)
        fscale = np.ones(nf, np.float32)
        for j in range(nf):
            col = f[:, j]
            col = col[np.isfinite(col)]
            if len(col) == 0:
                continue
            if col.min() >= 0:
                med = float(np.median(col))
                q99 = float(np.quantile(col, 0.99))
                if q99 > 20 * max(med, 1e-9) and q99 > 0:
                    logc[j] = True
                    col = np.log1p(col)
            center[j] = float(np.mean(col))
            sd = float(np.std(col))
            fscale[j] = sd if sd > 1e-9 else 1.0
        use = np.array([nm not in CATEGORICAL for nm in feature_names], bool)
        missing_cols = np.flatnonzero(~np.isfinite(f).all(axis=0) & use).astype(np.int64)
        self.a.update({"feat_log": logc, "feat_center": center, "feat_scale": fscale,
                       "feat_missing_cols": missing_cols, "feat_use": use})
        self.feature_names = list(feature_names)
        return self

    def same_projection(self, other: "InputTransform") -> bool:
        """Whether both project embeddings identically (bit for bit: same mean, components, scale)."""
        return all(np.asarray(self.a[k]).dtype == np.asarray(other.a[k]).dtype
                   and np.array_equal(np.ravel(self.a[k]), np.ravel(other.a[k]))  # a saved scalar is (1,)
                   for k in ("emb_mean", "emb_components", "emb_scale"))

    # -- applying ------------------------------------------------------------------------------
    @property
    def n_components(self) -> int:
        return int(self.a["emb_components"].shape[1])

    @property
    def dim(self) -> int:
        return self.n_components + len(self.a["feat_center"]) + len(self.a["feat_missing_cols"])

    def column_names(self) -> list[str]:
        names = [f"appearance_pc{i + 1}" for i in range(self.n_components)]
        names += list(self.feature_names)
        names += [f"{self.feature_names[j]}_missing" for j in self.a["feat_missing_cols"]]
        return names

    def project(self, emb_normalised: np.ndarray) -> np.ndarray:
        return ((emb_normalised - self.a["emb_mean"]) @ self.a["emb_components"]) / self.a["emb_scale"]

    def features(self, feats: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Standardised inputs then missing indicators; into `out` (rows x their width) when given."""
        f = np.array(feats, np.float32)  # a copy, worked on in place
        if f.shape[1] != len(self.a["feat_center"]):
            raise ValueError(f"expected {len(self.a['feat_center'])} features, got {f.shape[1]}")
        miss = ~np.isfinite(f)
        lc = self.a["feat_log"]
        if lc.any():
            with np.errstate(invalid="ignore"):
                f[:, lc] = np.log1p(np.maximum(f[:, lc], 0))
        f -= self.a["feat_center"]
        f /= self.a["feat_scale"]
        np.clip(f, -CLIP, CLIP, out=f)
        f[miss] = 0.0
        f[:, ~self.a["feat_use"]] = 0.0
        ind = miss[:, self.a["feat_missing_cols"]]
        if out is None:
            return np.concatenate([f, ind.astype(np.float32)], axis=1)
        out[:, :f.shape[1]] = f
        out[:, f.shape[1]:] = ind
        return out

    def transform(self, emb_normalised: np.ndarray, feats: np.ndarray) -> np.ndarray:
        return np.concatenate([self.project(emb_normalised), self.features(feats)], axis=1).astype(np.float32)

    def save_arrays(self, prefix: str = "in_") -> dict[str, np.ndarray]:
        return {prefix + k: np.asarray(v) for k, v in self.a.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], feature_names: list[str], prefix: str = "in_"):
        return cls({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}, feature_names)


# -- scoring (numpy) ----------------------------------------------------------------------------------
def raw_scores(kind: str, p: dict[str, np.ndarray], x: np.ndarray, n_components: int) -> np.ndarray:
    """Uncalibrated scores (higher = more keeper-like) of model inputs x (n x dim)."""
    if kind == "linear":
        return x @ p["w"] + p["b"]
    if kind == "mlp":
        h = np.maximum(x @ p["w1"] + p["b1"], 0)
        return h @ p["w2"] + p["b2"]
    if kind == "centroid":
        z = x[:, :n_components]
        return (z @ p["centroid"]) / np.maximum(np.linalg.norm(z, axis=1), 1e-9)
    if kind == "gbt":
        from fluxcull.keeper import gbt

        return gbt.predict(p, x)
    raise ValueError(f"unknown model kind {kind!r}: expected one of {', '.join(KINDS)}")


def burst_scores(kind: str, p: dict, x: np.ndarray, burst: np.ndarray) -> np.ndarray:
    """The part of a raw score that depends on the photo's burst-mates (scored together: x holds
    every frame of each burst in `burst`); 0 for the methods that score each photo alone."""
    if kind == "gbt":
        from fluxcull.keeper import gbt

        return gbt.burst_term(p, x, burst)
    return np.zeros(len(x))


def raw_scores_chunked(kind, arrays, x, n_components, burst: np.ndarray | None = None, chunk: int = 65536,
                       cancel=None) -> np.ndarray:
    """raw_scores over a large input matrix without large temporaries (`cancel` checked between
    blocks); with `burst` (a burst key per row of x, every frame of each burst present) the
    burst-mates' part too (burst_scores)."""
    out = np.empty(len(x), np.float64)
    for s in range(0, len(x), chunk):
        if cancel is not None:
            cancel.check()
        out[s:s + chunk] = raw_scores(kind, arrays, x[s:s + chunk], n_components)
    if burst is not None:
        out += burst_scores(kind, arrays, x, burst)
    return out


def raw_scores_at(kind, arrays, x, n_components, rows: np.ndarray, burst: np.ndarray | None = None,
                  chunk: int = 65536, cancel=None) -> np.ndarray:
    """raw_scores_chunked(...)[rows] without scoring the other rows: each photo's own part is scored
    for `rows` alone (it depends on nothing else); the burst-mates' part is taken over all of x."""
    rows = np.asarray(rows, np.int64)
    out = np.empty(len(rows), np.float64)
    for s in range(0, len(rows), chunk):
        if cancel is not None:
            cancel.check()
        out[s:s + chunk] = raw_scores(kind, arrays, x[rows[s:s + chunk]], n_components)
    if burst is not None:
        out += burst_scores(kind, arrays, x, burst)[rows]
    return out


def burst_contributions(kind: str, p: dict, mates: np.ndarray, i: int) -> np.ndarray:
    """Per-column contributions of the burst-mates' part to frame i of `mates` (every frame of its burst)."""
    if kind == "gbt":
        from fluxcull.keeper import gbt

        return gbt.burst_contributions(p, mates, i).astype(np.float32)
    return np.zeros(mates.shape[1], np.float32)


def input_contributions(kind: str, p: dict[str, np.ndarray], x: np.ndarray, n_components: int) -> np.ndarray:
    """Per-column contributions to the score of one input row x (dim,): weight x input for the linear
    model, gradient x input for the MLP and the centroid score, SHAP values for the trees."""
    x = np.asarray(x, np.float32)
    if kind == "linear":
        return x * p["w"]
    if kind == "mlp":
        pre = x @ p["w1"] + p["b1"]
        grad = p["w1"] @ (p["w2"] * (pre > 0))
        return x * grad
    if kind == "centroid":
        out = np.zeros_like(x)
        z = x[:n_components]
        out[:n_components] = z * p["centroid"] / max(float(np.linalg.norm(z)), 1e-9)
        return out
    if kind == "gbt":
        from fluxcull.keeper import gbt

        return gbt.contributions(p, x, len(x)).astype(np.float32)
    raise ValueError(f"unknown model kind {kind!r}")


def params_to_saved(kind: str, params: dict) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """A fitted scorer as (arrays named m_*, text parts) for the model store."""
    if kind == "gbt":
        from fluxcull.keeper import gbt

        arrays = {"m_" + k: np.asarray(params[k]) for k in ("cols", "k", "pos_sum", "neg_sum")}
        if params.get("choice") is not None:
            arrays.update({"m_choice_" + k: np.asarray(params["choice"][k]) for k in ("use", "size", "w")})
        return arrays, {"booster": gbt.to_text(params)}
    return {"m_" + k: np.asarray(v) for k, v in params.items()}, {}


def params_from_saved(kind: str, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> dict:
    """The inverse of params_to_saved."""
    p = {k[2:]: v for k, v in arrays.items() if k.startswith("m_")}
    if kind == "gbt":
        from fluxcull.keeper import gbt

        if "booster" not in texts:
            raise ValueError("gradient-boosted model without its trees (booster.txt)")
        return gbt.from_text(texts["booster"], p)
    return p


# -- fitting ------------------------------------------------------------------------------------------
def fit_centroid(x_pos: np.ndarray, n_components: int) -> dict[str, np.ndarray]:
    """The keeper centroid, in the fixed (centred, projected) embedding space."""
    z = np.asarray(x_pos, np.float32)[:, :n_components]
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)
    c = z.mean(axis=0)
    return {"centroid": (c / max(float(np.linalg.norm(c)), 1e-9)).astype(np.float32)}


def fit_pairwise(
    x: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    *,
    kind: str = "linear",
    seed: int = 0,
    hidden: int = 64,
    epochs: int | None = None,
    lr: float | None = None,
    weight_decay: float = 1e-4,
    batch_size: int = 4096,
    device: str | None = None,
    cancel=None,
) -> tuple[dict[str, np.ndarray], dict]:
    """Fit a pairwise scorer on inputs x (n x dim) and pairs (a preferred over b, weight w).

    Returns (arrays, info). Deterministic for a seed on a given device and thread count.
    """
    import torch

    if kind not in ("linear", "mlp"):
        raise ValueError(f"fit_pairwise fits linear or mlp, not {kind!r}")
    if len(a) == 0:
        raise ValueError("no training pairs: need at least one keeper and one non-keeper")
    if device in (None, "", "cpu"):
        dev = torch.device("cpu")
    elif device == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        dev = torch.device(device)
    # One CPU thread: these steps are small (a batch of pairs x a few hundred inputs), where extra
    # threads gain little and lose badly when other programs share the cores; it also makes the
    # result independent of the machine's core count.
    # torch's seed and thread count belong to the process: one fit at a time (the evaluation's
    # held-out tests may run in two threads)
    with _TORCH_FIT:
        threads_before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return _fit(torch, dev, x, a, b, w, kind, seed, hidden, epochs, lr, weight_decay, batch_size, cancel)
        finally:
            torch.set_num_threads(threads_before)


def _fit(torch, dev, x, a, b, w, kind, seed, hidden, epochs, lr, weight_decay, batch_size, cancel):
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    torch.manual_seed(int(seed))
    d = x.shape[1]
    n_pairs = len(a)
    if epochs is None:
        epochs = int(np.clip(round(PAIR_VISITS / n_pairs), 3, 40))
    if lr is None:
        lr = 0.01 if kind == "linear" else 0.003
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(dev)
    at = torch.from_numpy(np.asarray(a, np.int64)).to(dev)
    bt = torch.from_numpy(np.asarray(b, np.int64)).to(dev)
    wt = torch.from_numpy(np.asarray(w, np.float32)).to(dev)
    wt = wt / wt.mean()
    if kind == "linear":
        model = torch.nn.Linear(d, 1)
        torch.nn.init.zeros_(model.weight)
        torch.nn.init.zeros_(model.bias)
    else:
        lin1 = torch.nn.Linear(d, hidden)
        lin2 = torch.nn.Linear(hidden, 1)
        with torch.no_grad():
            lin1.weight.copy_(torch.randn(hidden, d, generator=gen) * (2.0 / d) ** 0.5)
            lin1.bias.zero_()
            lin2.weight.copy_(torch.randn(1, hidden, generator=gen) * (1.0 / hidden) ** 0.5)
            lin2.bias.zero_()
        model = torch.nn.Sequential(lin1, torch.nn.ReLU(), lin2)
    model = model.to(dev)
    steps_per_epoch = max(1, (n_pairs + batch_size - 1) // batch_size)
    # torch.optim.AdamW + OneCycleLR(pct_start=0.1), the same updates bit for bit (fluxcull.keeper.one_cycle)
    opt = AdamWOneCycle(model.parameters(), max_lr=lr, weight_decay=weight_decay,
                        total_steps=epochs * steps_per_epoch, pct_start=0.1)
    losses = []
    for _ep in range(epochs):
        if cancel is not None:
            cancel.check()
        perm = torch.randperm(n_pairs, generator=gen).to(dev)
        total = 0.0
        for s in range(0, n_pairs, batch_size):
            idx = perm[s : s + batch_size]
            sa = model(xt[at[idx]]).squeeze(1)
            sb = model(xt[bt[idx]]).squeeze(1)
            loss = (wt[idx] * torch.nn.functional.softplus(-(sa - sb))).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / n_pairs)
    with torch.no_grad():
        if kind == "linear":
            arrays = {"w": model.weight.detach().cpu().numpy()[0].astype(np.float32),
                      "b": np.float32(model.bias.detach().cpu().numpy()[0])}
        else:
            arrays = {"w1": lin1.weight.detach().cpu().numpy().T.copy().astype(np.float32),
                      "b1": lin1.bias.detach().cpu().numpy().astype(np.float32),
                      "w2": lin2.weight.detach().cpu().numpy()[0].astype(np.float32),
                      "b2": np.float32(lin2.bias.detach().cpu().numpy()[0])}
    info = {"epochs": epochs, "pairs": int(n_pairs), "lr": lr, "weight_decay": weight_decay,
            "hidden": hidden if kind == "mlp" else None, "device": str(dev),
            "loss_first": losses[0], "loss_last": losses[-1]}
    return arrays, info
