"""One picture of a drive under several controllers: cabin temperature with the comfort band,
HVAC electric power, and cumulative HVAC energy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shopfloor.control.comfort import ComfortSpec
from shopfloor.control.plant import Episode


def plot_controllers(
    runs: dict[str, Episode], comfort: ComfortSpec, path: str | Path, title: str = ""
) -> Path:
    """Write a PNG comparing ``runs`` (controller name -> episode) on one drive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    for name, ep in runs.items():
        minutes = np.arange(len(ep.log["cabin_temp"])) / 60.0
        power = ep.log["hvac_power"]
        axes[0].plot(minutes, ep.log["cabin_temp"], label=name, lw=1)
        axes[1].plot(minutes, power / 1000.0, label=name, lw=0.8)
        axes[2].plot(minutes, np.cumsum(power) / 3.6e6, label=name, lw=1)
    axes[0].axhspan(comfort.low, comfort.high, color="green", alpha=0.1, label="comfort band")
    axes[0].set_ylabel("cabin, °C")
    axes[1].set_ylabel("HVAC power, kW")
    axes[2].set_ylabel("HVAC energy, kWh")
    axes[2].set_xlabel("time, min")
    axes[0].legend(fontsize=8, loc="lower right")
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
