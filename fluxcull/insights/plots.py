"""Analytics as PNG charts (matplotlib's Agg backend, no GUI toolkit; figures are made without
pyplot, so nothing global is touched, and any thread may draw one): keeper density by hour of day,
month, year and place (the 20 places with most photos), each bar with its Wilson 95% interval;
session length against keeper density (one dot a session); and motif frequency over time (each
stored motif's share of a year's keepers, the 8 largest motifs).

`write_plots` writes them all as files (`fluxcull analytics --plots DIR`); `plot_png` draws one, by
its key in PLOTS, as PNG bytes (the Analytics window)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from fluxcull.catalog import insight_reads, motif_store
from fluxcull.insights.analytics import Data, group

# key -> (file name, title in a chooser)
PLOTS = {
    "hour": ("density_by_hour.png", "Keeper density by hour of day"),
    "month": ("density_by_month.png", "Keeper density by month"),
    "year": ("density_by_year.png", "Keeper density by year"),
    "place": ("density_by_place.png", "Keeper density by place"),
    "session_length": ("session_length_vs_density.png", "Session length against keeper density"),
    "motifs": ("motif_frequency.png", "Motif frequency over time"),
}
TOP_PLACES = 20
TOP_MOTIFS = 8
SIZE = (8.0, 4.5)   # inches at 100 dpi


def _figure(width: float = SIZE[0], height: float = SIZE[1], dpi: int = 100):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _bars(fig, groups: list[dict], title: str, xlabel: str, *, rotate: bool = False) -> None:
    ax = fig.add_subplot(1, 1, 1)
    keys = [str(g["key"]) for g in groups]
    dens = [g["density"] for g in groups]
    err_lo = [max(0.0, g["density"] - g["low"]) if not math.isnan(g["low"]) else 0.0 for g in groups]
    err_hi = [max(0.0, g["high"] - g["density"]) if not math.isnan(g["high"]) else 0.0 for g in groups]
    ax.bar(range(len(keys)), dens, yerr=[err_lo, err_hi], color="#4a7ab5", ecolor="#333333", capsize=2)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, rotation=60 if rotate else 0, ha="right" if rotate else "center", fontsize=7)
    ax.set_ylabel("keeper density (keepers / photos)")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if not keys:
        ax.text(0.5, 0.5, "no photos", ha="center", va="center", transform=ax.transAxes)


def _sessions(fig, groups: list[dict]) -> None:
    sessions = [g for g in groups if g.get("hours") is not None]
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter([g["hours"] for g in sessions], [g["density"] for g in sessions],
               s=[8 + min(g["photos"], 400) / 10 for g in sessions], alpha=0.6, color="#4a7ab5")
    ax.set_xlabel("session length (hours)")
    ax.set_ylabel("keeper density")
    ax.set_title("Session length against keeper density (dot size: photos)")


def motif_years(conn, data: Data) -> tuple[list[str], list[dict]]:
    """(years, [{id, name, size, members per year, share of each year's keepers}]) of the TOP_MOTIFS
    largest stored motifs; the years are those with keepers (analytics' count)."""
    years = [g for g in group(data, "year")["groups"] if g["key"] != "unknown" and g["keepers"]]
    labels = [g["key"] for g in years]
    keepers = np.array([g["keepers"] for g in years], np.float64)
    stored = sorted(motif_store.motifs(conn), key=lambda m: (-len(m["members"]), m["id"]))[:TOP_MOTIFS]
    caps = insight_reads.photo_captions(conn, [p for m in stored for p in m["members"]])
    out = []
    for m in stored:
        t = [caps[p][1] for p in m["members"] if p in caps and caps[p][1] is not None]
        secs = np.array(t, np.float64).astype(np.int64).astype("datetime64[s]")   # as analytics dates them
        yr = secs.astype("datetime64[Y]").astype(np.int64) + 1970
        counts = np.array([int((yr == int(y)).sum()) for y in labels], np.float64)
        out.append({"id": m["id"], "name": m["name"], "size": len(m["members"]), "members": counts.tolist(),
                    "share": (counts / np.maximum(keepers, 1)).tolist()})
    return labels, out


def _motifs(fig, conn, data: Data) -> None:
    years, motifs = motif_years(conn, data)
    ax = fig.add_subplot(1, 1, 1)
    for m in motifs:
        label = f"{m['id']} {m['name']}" if m["name"] else f"motif {m['id']}"
        ax.plot(range(len(years)), m["share"], marker="o", label=f"{label} ({m['size']})")
    ax.set_xticks(range(len(years)))
    ax.set_xticklabels(years, fontsize=7)
    ax.set_xlabel("year")
    ax.set_ylabel("share of the year's keepers")
    ax.set_title(f"Motif frequency over time (the {TOP_MOTIFS} largest motifs; keepers in each)")
    if motifs:
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.5, 0.5, "no motifs stored: run `fluxcull motifs`", ha="center", va="center", transform=ax.transAxes)


def draw(fig, conn, key: str, data: Data | None = None) -> None:
    """Draw the plot `key` (of PLOTS) on an empty figure."""
    data = data if data is not None else Data(conn)

    def known(by):
        return [g for g in group(data, by)["groups"] if g["key"] != "unknown"]

    if key in ("hour", "month", "year"):
        label = "hour of day" if key == "hour" else key
        _bars(fig, known(key), f"Keeper density by {label}", label)
    elif key == "place":
        places = sorted(known("place"), key=lambda g: -g["photos"])[:TOP_PLACES]
        _bars(fig, places, f"Keeper density by place (top {TOP_PLACES} by photos)", "place", rotate=True)
    elif key == "session_length":
        _sessions(fig, known("session"))
    elif key == "motifs":
        _motifs(fig, conn, data)
    else:
        raise KeyError(f"no plot {key!r}: expected one of {', '.join(PLOTS)}")
    fig.tight_layout()


def plot_png(conn, key: str, *, width: float = SIZE[0], height: float = SIZE[1], dpi: int = 100) -> bytes:
    """One plot as PNG bytes."""
    fig = _figure(width, height, dpi)
    draw(fig, conn, key)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_plots(conn, folder) -> list[str]:
    """Write every plot of PLOTS into folder (created); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = Data(conn)
    out = []
    for key, (name, _) in PLOTS.items():
        fig = _figure()
        draw(fig, conn, key, data)
        fig.savefig(folder / name, format="png")
        out.append(str(folder / name))
    return out
