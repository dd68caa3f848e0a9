"""Pictures a maintenance engineer would rather look at than read: the envelope spectrum with
the bearing's defect frequencies marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shopfloor.assessment.diagnosis import SIGNATURE_NAMES, SIGNATURE_OF, FaultClass
from shopfloor.assessment.recording_diagnosis import RecordingDiagnosis

# FTF is left out: its harmonics crowd the low end and a cage fault is rare on its own
_COLOURS = {"bpfo": "tab:red", "bpfi": "tab:blue", "bsf2": "tab:green"}


def plot_envelope_spectrum(
    result: RecordingDiagnosis, path: Path, *, title: str = "", n_harmonics: int = 4
) -> Path:
    """Save a PNG of the averaged squared envelope spectrum with defect harmonics marked.

    The band shown is the one with the strongest evidence for the verdict (the pre-whitened
    band when the verdict is normal or unknown). Dashed lines: harmonics of BPFO, BPFI, 2×BSF;
    dots: the peaks found for the verdict, labelled with their height over the floor in dB.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed on a plant PC or a server
    import matplotlib.pyplot as plt

    verdict = result.diagnosis.label
    signature = SIGNATURE_OF.get(verdict)
    band = result.best_band(signature) if signature else result.spectra[0]
    f_max = min(band.freqs[-1], result.defect_hz["bpfi"] * (n_harmonics + 0.5))
    keep = band.freqs <= f_max
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    ax.plot(band.freqs[keep], band.amplitude[keep], color="0.25", linewidth=0.8)
    top = float(band.amplitude[keep][1:].max()) if keep.sum() > 1 else 1.0
    for name, colour in _COLOURS.items():
        f0 = result.defect_hz.get(name)
        if f0 is None:
            continue
        for h in range(1, n_harmonics + 1):
            if h * f0 <= f_max:
                ax.axvline(
                    h * f0,
                    color=colour,
                    linestyle="--",
                    linewidth=0.9,
                    alpha=0.6,
                    label=f"{SIGNATURE_NAMES[name]} {f0:.1f} Hz" if h == 1 else None,
                )
    for ev in result.diagnosis.evidence:
        if ev.band != band.name:
            continue
        for peak in [*ev.harmonics, *ev.sidebands]:
            if peak.significance < 2.0 or peak.found_hz > f_max:
                continue
            y = float(np.interp(peak.found_hz, band.freqs, band.amplitude))
            ax.plot(peak.found_hz, y, "o", color=_COLOURS.get(ev.signature, "k"), markersize=5)
            ax.annotate(
                f"{peak.name} +{peak.over_floor_db:.0f} dB",
                (peak.found_hz, y),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=8,
            )
    ax.set_xlim(0, f_max)
    ax.set_ylim(0, top * 1.15)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("squared envelope amplitude")
    label = verdict.value.replace("_", " ")
    head = f"{label}" if verdict != FaultClass.UNKNOWN else "cannot diagnose"
    ax.set_title(
        f"{title + ': ' if title else ''}{head} — band {band.name} "
        f"({band.band_hz[0]:.0f}–{band.band_hz[1]:.0f} Hz), shaft "
        f"{result.shaft_hz * 60:.0f} rpm",
        fontsize=10,
    )
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
