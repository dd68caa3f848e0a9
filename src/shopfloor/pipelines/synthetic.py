"""A small generated fleet for the demo when no real data can be had.

Four recordings of one motor's drive-end bearing (SKF 6205 geometry, 1797 rpm, 12 kHz): healthy,
outer-race, inner-race and ball defects, from :mod:`shopfloor.acquisition.synthetic_signals`.
They are stored as the dataset ``synthetic-demo`` and always labelled as generated wherever
they are shown.
"""

from __future__ import annotations

import pandas as pd

from shopfloor.acquisition.synthetic_signals import bearing_signal, cwru_drive_end_bearing
from shopfloor.core.assets import Asset, Channel, Component, Direction
from shopfloor.core.labels import FaultLabel, FaultLocation
from shopfloor.core.recording import OperatingCondition, Recording, RecordingData, TimeBase
from shopfloor.core.store import Store

DATASET = "synthetic-demo"
FS_HZ = 12_000.0
SHAFT_RPM = 1797.0

_CASES = [  # (recording suffix, defect passed to the generator, label, impulse amplitude m/s²)
    ("healthy", "outer", FaultLocation.NONE, 0.0),
    ("outer-race", "outer", FaultLocation.OUTER_RACE, 1.0),
    ("inner-race", "inner", FaultLocation.INNER_RACE, 1.0),
    ("ball", "ball", FaultLocation.ROLLING_ELEMENT, 0.6),
]


def store_synthetic_fleet(store: Store, *, duration_s: float = 10.0, seed: int = 7) -> str:
    """Generate the demo fleet into ``store`` (replacing an earlier one); returns its name."""
    asset = Asset(
        id="demo-motor",
        name="Generated demo motor (not real data)",
        kind="induction_motor",
        nameplate={"rated_power_kw": "2 hp", "rated_speed_rpm": SHAFT_RPM},
        components=[
            Component(
                id="de_bearing",
                kind="rolling_bearing",
                location="drive end",
                bearing=cwru_drive_end_bearing(),
            )
        ],
        channels=[
            Channel(
                id="de_acc",
                quantity="acceleration",
                unit="m/s**2",
                sample_rate_hz=FS_HZ,
                component_id="de_bearing",
                direction=Direction.RADIAL_VERTICAL,
            )
        ],
    )
    with store.batch(DATASET, replace=True) as batch:
        batch.add_asset(asset)
        for i, (suffix, defect, location, amplitude) in enumerate(_CASES):
            signal, _ = bearing_signal(
                defect,
                shaft_hz=SHAFT_RPM / 60.0,
                fs_hz=FS_HZ,
                duration_s=duration_s,
                impulse_amplitude=amplitude,
                seed=seed + i,
            )
            rec = Recording(
                id=f"demo-{suffix}",
                asset_id=asset.id,
                channel_ids=["de_acc"],
                n_samples=signal.size,
                time_base=TimeBase(kind="uniform", sample_rate_hz=FS_HZ),
                condition=OperatingCondition(shaft_speed_rpm=SHAFT_RPM),
                labels=[
                    FaultLabel(location=location, component_id="de_bearing", fault_type="generated")
                ],
                source="shopfloor.acquisition.synthetic_signals",
            )
            batch.add_recording(RecordingData(rec, pd.DataFrame({"de_acc": signal})))
        batch.set_dataset(version="1", source="generated")
    return DATASET
