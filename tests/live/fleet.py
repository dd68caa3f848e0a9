"""A one-motor fleet and a spec for the live tests."""

from __future__ import annotations

import copy
from typing import Any

FLEET: dict[str, Any] = {
    "plant": "p1",
    "line": "l1",
    "assets": [
        {
            "id": "m1",
            "kind": "induction_motor",
            "nameplate": {"rated_speed_rpm": 1797},
            "components": [
                {
                    "id": "de",
                    "kind": "rolling_bearing",
                    "bearing": {
                        "n_elements": 9,
                        "element_diameter_mm": 7.94,
                        "pitch_diameter_mm": 39.04,
                    },
                }
            ],
            "channels": [
                {
                    "id": "de_accel",
                    "quantity": "acceleration",
                    "unit": "m/s^2",
                    "sample_rate_hz": 25600,
                    "component_id": "de",
                },
                {"id": "de_temp", "quantity": "temperature", "unit": "degC"},
            ],
        }
    ],
}

STEPS = [
    {"use": "features.time"},
    {"use": "features.bearing"},
    {"use": "diagnosis.physics"},
    {"use": "advice.alerts"},
]


def spec(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "test",
        "fleet": copy.deepcopy(FLEET),
        "source": {"kind": "memory"},
        "steps": copy.deepcopy(STEPS),
        "sinks": [{"use": "log"}, {"use": "store"}],
    }
    doc.update(overrides)
    return doc
