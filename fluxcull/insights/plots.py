"""Analytics as PNG charts (matplotlib's Agg backend, no GUI toolkit; figures are made without
pyplot, so nothing global is touched): keeper density by hour of day, month, year and place (the
20 places with most photos), each bar with its Wilson 95% interval, and session length against
keeper density (one dot a session)."""

from __future__ import annotations

import math
from pathlib import Path

from fluxcull.insights.analytics import Data, group

PLOTS = ("density_by_hour.png", "density_by_month.png", "density_by_year.png", "density_by_place.png",
         "session_length_vs_density.png")
TOP_PLACES = 20


def _figure(width: float = 8.0, height: float = 4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _bars(groups: list[dict], title: str, xlabel: str, path: Path, *, rotate: bool = False) -> None:
    fig = _figure()
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
    fig.tight_layout()
    fig.savefig(path, format="png")


def write_plots(conn, folder) -> list[str]:
    """Write the PLOTS into folder (created); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = Data(conn)
    out = []

    def known(by):
        return [g for g in group(data, by)["groups"] if g["key"] != "unknown"]

    for by, name, label in (("hour", PLOTS[0], "hour of day"), ("month", PLOTS[1], "month"),
                            ("year", PLOTS[2], "year")):
        _bars(known(by), f"Keeper density by {label}", label, folder / name)
        out.append(str(folder / name))
    places = sorted(known("place"), key=lambda g: -g["photos"])[:TOP_PLACES]
    _bars(places, f"Keeper density by place (top {TOP_PLACES} by photos)", "place", folder / PLOTS[3], rotate=True)
    out.append(str(folder / PLOTS[3]))
    sessions = [g for g in known("session") if g.get("hours") is not None]
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter([g["hours"] for g in sessions], [g["density"] for g in sessions],
               s=[8 + min(g["photos"], 400) / 10 for g in sessions], alpha=0.6, color="#4a7ab5")
    ax.set_xlabel("session length (hours)")
    ax.set_ylabel("keeper density")
    ax.set_title("Session length against keeper density (dot size: photos)")
    fig.tight_layout()
    fig.savefig(folder / PLOTS[4], format="png")
    out.append(str(folder / PLOTS[4]))
    return out
