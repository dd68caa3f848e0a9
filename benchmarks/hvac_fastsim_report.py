"""Report writers for ``hvac_fastsim``: the markdown table and the per-cell energy–comfort plot.

Kept apart from the benchmark's runner so each stays a readable size; both read only the
result dictionary the runner builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# hvac_fastsim: cabin HVAC control through a learned simulator (FASTSim 3 plant)",
        "",
        f"Command: `{result['command']}`; wall time {result['wall_s']} s on a shared 2-core "
        "machine.",
        "",
        "## Headline",
        "",
        *[f"- `{k}`: {v}" for k, v in result["headline"].items()],
        "",
        *[f"- {k}: {v}" for k, v in result["summary"].items()],
        "",
        "## Cells (HVAC energy Wh; saving % vs stock; discomfort K·h after the stock warm-up)",
        "",
        "| vehicle | cycle | amb °C | stock Wh | stock K·h | band-edge % | band K·h | MPC % | "
        "MPC K·h | oracle % | oracle K·h | capture % | range gain MPC % | curve dominated | "
        "MPC trips / overrides |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in result["cells"]:
        s, b, m, o = c["stock"], c["band_edge"], c["shopfloor_mpc"], c["oracle"]
        lines.append(
            f"| {c['vehicle']} | {c['cycle']} | {c['ambient_c']:+.0f} | {s['hvac_wh']:.0f} | "
            f"{s['discomfort_kh']:.4f} | {b['hvac_saving_pct']:+.1f} | {b['discomfort_kh']:.4f} | "
            f"{m['hvac_saving_pct']:+.2f} | {m['discomfort_kh']:.4f} | {o['hvac_saving_pct']:+.2f} "
            f"| {o['discomfort_kh']:.4f} | {c['capture_pct']:.0f} | {m['range_gain_pct']:+.2f} | "
            f"{'yes' if c['stock_curve_dominated'] else 'no'} | "
            f"{m.get('interlock_trips', '-')} / {m.get('supervisor_overrides', '-')} |"
        )
    lines += ["", "## MPC guard, measured on an in-log validation split (not on the cells)", ""]
    if result["summary"].get("mpc_supervisor_note"):
        lines += [f"- Supervisor: {result['summary']['mpc_supervisor_note']}."]
    for veh, info in result["learning"].items():
        g = info.get("mpc_guard")
        if g:
            lines.append(
                f"- {veh}: dwell {g['dwell_steps']} intervals (closed-loop tau "
                f"{g['how']['closed_loop_tau_s']} s); relaxing steps keep the move's cabin error "
                f"inside the band edges (all moves pooled: {g['cabin_error_k']:.3f} K); stock "
                f"kept unless the predicted horizon saving exceeds "
                f"{100 * g['saving_error_frac']:.1f} %. {g['how']['split']}"
            )
            if g.get("observer_gains"):
                gains = ", ".join(f"{k} {v:g}" for k, v in g["observer_gains"].items())
                lines.append(
                    f"  - offset-free prediction: observer gain {gains} (90 % cabin error by "
                    f"gain: {g['how'].get('observer_error_by_gain')}); energy from the "
                    f"{'corrected' if g.get('correct_energy', True) else 'uncorrected'} rollout "
                    f"(saving error {g['how'].get('saving_error_by_energy')})"
                )
            for r in g.get("cabin_error_table", []):
                top = "any" if r["move_max_k"] is None else f"<= {r['move_max_k']:g} K"
                lines.append(
                    f"  - {r['mode']}, move {top}: {r['error_k']:.3f} K "
                    f"({r['rollouts']} validation rollouts)"
                )
    lines += ["", "## Learned simulator, open loop on held-out ambients (stock runs)", ""]
    for veh, a in result["surrogate_accuracy"].items():
        lines.append(
            f"- {veh}: cabin RMSE {a['cabin_rmse_k']:.3f} K; HVAC energy error mean |.| "
            f"{a['energy_error_pct_mean_abs']:.2f} %, worst {a['energy_error_pct_worst']:.2f} %"
        )
    lines += ["", "## Neural sequence model (GRU), same logs, same held-out drives", ""]
    for veh, a in result.get("neural_surrogate_accuracy", {}).items():
        if "skipped" in a:
            lines.append(f"- {veh}: skipped ({a['skipped']})")
            continue
        lines.append(
            f"- {veh}: cabin RMSE {a['cabin_rmse_k']:.3f} K; HVAC energy error mean |.| "
            f"{a['energy_error_pct_mean_abs']:.2f} %, worst {a['energy_error_pct_worst']:.2f} %; "
            f"fit {a['fit_s']} s"
        )
    return "\n".join(lines) + "\n"


def tradeoff_plot(cells: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(cells)
    cols = 5
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, c in zip(axes.flat, cells, strict=False):
        st = c["stock_curve"]
        ax.plot(
            [r["hvac_wh"] for r in st],
            [r["discomfort_kh"] for r in st],
            "o-",
            label="stock 20-24 °C",
        )
        cu = sorted(c["shopfloor_curve"], key=lambda r: r["margin_k"])
        ax.plot(
            [r["hvac_wh"] for r in cu],
            [r["discomfort_kh"] for r in cu],
            "s-",
            label="shopfloor MPC",
        )
        ax.plot(c["oracle"]["hvac_wh"], c["oracle"]["discomfort_kh"], "k*", label="oracle")
        ax.set_title(f"{c['vehicle']} {c['cycle']} {c['ambient_c']:+.0f} °C", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes[0][0].legend(fontsize=6)
    fig.supxlabel("HVAC energy, Wh")
    fig.supylabel("discomfort after warm-up, K·h")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
