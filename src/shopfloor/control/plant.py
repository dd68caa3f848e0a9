"""An EV cabin-HVAC plant to control: NREL FASTSim 3 co-simulated window by window.

FASTSim has no per-step control call, so :class:`CabinPlant` runs the drive cycle in windows of
``step_s`` seconds with ``SimDrive.run_once``. Between windows the vehicle's state is carried
over (``to_dict`` -> ``from_dict`` with histories cleared and step counters reset) and the next
command is written into the vehicle: a cabin setpoint and, optionally, a cap on the cabin HVAC
electric power. Chained windows reproduce one uninterrupted run exactly (``tests/control``).

What leaves the plant is what a car's data logger records, once per second: cabin, battery and
ambient temperature, speed, state of charge and HVAC electric power. No learner or optimiser
in :mod:`shopfloor.control` reads FASTSim's parameters; only the benchmark's scoring reads the
battery capacity (to turn consumption into range) and the split of HVAC power between cabin and
battery loop (reported, never used for control).

fastsim is an optional extra (``pip install shopfloor[hvac]``), imported here only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shopfloor.core.errors import InputError, ShopfloorError

FloatArray = npt.NDArray[np.float64]

KELVIN = 273.15
#: Short names of the FASTSim thermal BEVs this module knows, and their resource files.
VEHICLES = {
    "bolt": "2020 Chevrolet Bolt EV thrml.yaml",
    "model3": "2022 Tesla Model 3 RWD thrml.yaml",
    "leaf": "2016 Nissan Leaf 30 kWh thrml.yaml",
}
#: Drive cycles: name -> (FASTSim resource, repetitions).
CYCLES = {"udds": ("udds.csv", 1), "hwfet": ("hwfet.csv", 1), "udds4": ("udds.csv", 4)}
#: Channels the logger records, with their units.
CHANNELS = {
    "cabin_temp": "degC",
    "battery_temp": "degC",
    "ambient_temp": "degC",
    "speed": "m/s",
    "soc": "dimensionless",
    "hvac_power": "W",
}
_CYCLE_ARRAYS = (
    "time_seconds",
    "speed_meters_per_second",
    "dist_meters",
    "grade",
    "elev_meters",
    "pwr_max_chrg_watts",
    "temp_amb_air_kelvin",
    "pwr_solar_load_watts",
)
_HVAC = "LumpedCabinAndRES"


class PlantError(ShopfloorError):
    """The plant cannot run (fastsim missing, or a vehicle without a cabin HVAC model)."""


def _fastsim() -> Any:
    try:
        import fastsim
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise PlantError(
            "the HVAC plant needs NREL FASTSim: pip install 'shopfloor[hvac]'"
        ) from exc
    return fastsim


def load_vehicle(vehicle: str) -> dict[str, Any]:
    """A FASTSim thermal BEV as a dict: a short name (:data:`VEHICLES`), a resource name or a
    vehicle YAML file.

    Raises
    ------
    InputError
        Unknown name or missing file; or a vehicle without a lumped cabin and cabin+battery HVAC.
    """
    fastsim = _fastsim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if vehicle in VEHICLES:
            veh = fastsim.Vehicle.from_resource(VEHICLES[vehicle])
        elif vehicle.endswith((".yaml", ".yml")) and Path(vehicle).is_file():
            veh = fastsim.Vehicle.from_file(str(Path(vehicle).resolve()))
        elif vehicle in {str(p) for p in fastsim.Vehicle.list_resources()}:
            veh = fastsim.Vehicle.from_resource(vehicle)
        elif vehicle.endswith((".yaml", ".yml")):
            raise InputError("vehicle file not found", source=vehicle)
        else:
            raise InputError(
                f"unknown vehicle {vehicle!r}: give one of {sorted(VEHICLES)}, a FASTSim "
                "resource name or a vehicle YAML file"
            )
        data: dict[str, Any] = veh.to_dict()
    if _HVAC not in (data.get("hvac") or {}) or "LumpedCabin" not in (data.get("cabin") or {}):
        raise InputError(
            "vehicle has no lumped cabin with cabin+battery HVAC model (use a *thrml* BEV)",
            source=vehicle,
        )
    return data


def load_cycle(cycle: str, ambient_c: float | FloatArray) -> dict[str, Any]:
    """A drive cycle (:data:`CYCLES`) as a FASTSim dict with the ambient profile written in.

    ``ambient_c`` is one temperature (°C) or one per second of the cycle.
    """
    if cycle not in CYCLES:
        raise InputError(f"unknown drive cycle {cycle!r}: give one of {sorted(CYCLES)}")
    fastsim = _fastsim()
    resource, reps = CYCLES[cycle]
    base: dict[str, Any] = fastsim.Cycle.from_resource(resource).to_dict()
    out = dict(base)
    if reps > 1:
        # Repeat without the duplicated first sample; time and distance continue.
        n = len(base["time_seconds"])
        for key in _CYCLE_ARRAYS:
            arr = np.asarray(base[key], dtype=float)
            parts = [arr] + [arr[1:] for _ in range(reps - 1)]
            if key in ("time_seconds", "dist_meters"):
                parts = [arr] + [arr[1:] + (r + 1) * arr[-1] for r in range(reps - 1)]
            out[key] = np.concatenate(parts).tolist()
        assert len(out["time_seconds"]) == reps * (n - 1) + 1
    n = len(out["time_seconds"])
    amb = (
        np.broadcast_to(np.asarray(ambient_c, dtype=float), (n,))
        if np.ndim(ambient_c) == 0
        else (np.asarray(ambient_c, dtype=float))
    )
    if amb.shape != (n,):
        raise InputError(
            f"ambient profile has {amb.shape[0]} values; cycle {cycle!r} has {n} seconds"
        )
    if not np.all(np.isfinite(amb)):
        raise InputError("ambient profile holds NaN or infinite values", column="ambient_temp")
    out["temp_amb_air_kelvin"] = (amb + KELVIN).tolist()
    return out


def _reset_histories(node: dict[str, Any]) -> dict[str, Any]:
    """Empty every ``history`` and restart every step counter, in place: the state a fresh run
    would start from, with the carried-over physical state (temperatures, SOC, PID terms)."""
    for key, value in node.items():
        if key == "history" and isinstance(value, dict):
            for name in value:
                value[name] = []
        elif isinstance(value, dict):
            if key == "state" and "i" in value:
                value["i"] = 0
            _reset_histories(value)
    return node


def _slice_cycle(cycle: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    out = dict(cycle)
    for key in _CYCLE_ARRAYS:
        out[key] = cycle[key][start : stop + 1]
    return out


@dataclass
class Command:
    """One control command: cabin setpoint (°C), optional cabin HVAC electric power cap (W),
    optional battery-loop electric power cap (W), and a scale on the vehicle's cabin PID gains
    (proportional and integral together; 1 = as shipped, only the oracle changes it)."""

    setpoint_c: float
    power_cap_w: float | None = None
    pack_cap_w: float | None = None
    gain_scale: float = 1.0
    #: A 1 Hz safety check on the logged cabin while this command is in force (``None``: none).
    interlock: Interlock | None = None


@dataclass
class Interlock:
    """A check of the logged cabin temperature once per second while a command is in force,
    as a car's HVAC ECU reads its cabin sensor at 1 Hz or faster while the optimiser above it
    decides every control interval.

    ``trip_at(trace)`` gets the cabin trace of the window, °C (``trace[0]`` at its start,
    ``trace[j]`` after ``j`` seconds) and returns the first second ``k`` ≥ 1 whose reading trips
    the check, or ``None``. It must be causal (the answer for ``k`` may read ``trace[: k + 1]``
    only): the plant then runs ``fallback`` from second ``k`` to the end of the window.
    """

    trip_at: Callable[[FloatArray], int | None]
    fallback: Command


@dataclass
class Episode:
    """Everything one run produced, one row per second (length ``n``).

    ``log`` holds the logger channels (:data:`CHANNELS`) plus ``setpoint`` (°C, the command).
    ``hvac_cabin_power``/``hvac_battery_power`` (W) and ``battery_energy_j`` (chemical energy
    drawn, J) are scoring quantities, never shown to learners.
    """

    log: dict[str, FloatArray] = field(default_factory=dict)
    hvac_cabin_power: FloatArray = field(default_factory=lambda: np.zeros(0))
    hvac_battery_power: FloatArray = field(default_factory=lambda: np.zeros(0))
    battery_energy_j: float = 0.0
    distance_m: float = 0.0
    #: Rows (seconds since the start) at which a command's interlock tripped.
    interlock_trips: list[int] = field(default_factory=list)


class CabinPlant:
    """Gymnasium-style environment over FASTSim: ``reset`` then ``step`` until ``done``.

    Parameters
    ----------
    vehicle:
        Short name (``"bolt"``, ``"model3"``, ``"leaf"``), FASTSim resource or vehicle YAML.
    step_s:
        Control interval, s (whole seconds of the 1 Hz cycle).
    per_second:
        Run a command that carries an :class:`Interlock` one 1-s FASTSim window at a time,
        checking after each (true 1 Hz stepping, ~30 times slower). Default: run the whole
        interval, and where the trace trips at second ``k``, rerun from the state before it
        ``k`` seconds with the command and the rest with the fallback, which gives the same
        run because the plant is deterministic and chained windows reproduce one run exactly
        (both checked in ``tests/control``).

    Examples
    --------
    >>> plant = CabinPlant("bolt", step_s=60)  # doctest: +SKIP
    >>> obs = plant.reset("udds", ambient_c=-10.0)  # doctest: +SKIP
    >>> obs, done = plant.step(Command(22.0))  # doctest: +SKIP
    """

    def __init__(
        self, vehicle: str = "bolt", step_s: int = 30, *, per_second: bool = False
    ) -> None:
        if int(step_s) != step_s or step_s < 1:
            raise InputError(f"step_s must be a whole number of seconds >= 1, got {step_s!r}")
        self.vehicle = vehicle
        self.step_s = int(step_s)
        self.per_second = per_second
        self.tripped_at: int | None = None
        self._veh0 = load_vehicle(vehicle)
        self._fastsim = _fastsim()

    # ---------------------------------------------------------------- episode control
    def reset(
        self,
        cycle: str,
        ambient_c: float | FloatArray,
        *,
        cabin_soak_c: float | None = None,
        battery_soak_c: float | None = None,
        soc: float | None = None,
    ) -> dict[str, float]:
        """Start a run: the car has soaked at ``cabin_soak_c``/``battery_soak_c`` (°C; default
        the first ambient value). Returns the first observation."""
        self._cycle = load_cycle(cycle, ambient_c)
        self.cycle_name = cycle
        first_amb = float(self._cycle["temp_amb_air_kelvin"][0]) - KELVIN
        veh = _reset_histories(_deepcopy(self._veh0))
        cab = veh["cabin"]["LumpedCabin"]["state"]
        res = veh["pt_type"]["BEV"]["res"]
        thr = res["thrml"]["RESLumpedThermal"]["state"]
        for st, soak in ((cab, cabin_soak_c), (thr, battery_soak_c)):
            temp = (first_amb if soak is None else float(soak)) + KELVIN
            st["temperature_kelvin"] = temp
            st["temp_prev_kelvin"] = temp
        if soc is not None:
            res["state"]["soc"] = float(soc)
        self._veh = veh
        self._i = 0
        self.n = len(self._cycle["time_seconds"])
        self.episode = Episode(log={k: np.zeros(0) for k in (*CHANNELS, "setpoint")})
        obs = self._observe_initial()
        self._append_row(obs, setpoint=float("nan"), cab_w=0.0, res_w=0.0)
        return obs

    @property
    def done(self) -> bool:
        """Whether the cycle has ended."""
        return self._i >= self.n - 1

    @property
    def time_s(self) -> float:
        """Seconds since the start of the cycle."""
        return float(self._cycle["time_seconds"][self._i])

    def future(self, seconds: int) -> dict[str, FloatArray]:
        """The next ``seconds`` of the cycle's speed (m/s) and ambient (°C), for a controller
        that knows the route (as a navigation system and weather forecast would tell it)."""
        sl = slice(self._i + 1, min(self._i + 1 + seconds, self.n))
        return {
            "speed": np.asarray(self._cycle["speed_meters_per_second"][sl], dtype=float),
            "ambient_temp": np.asarray(self._cycle["temp_amb_air_kelvin"][sl], dtype=float)
            - KELVIN,
        }

    def step(self, command: Command, seconds: int | None = None) -> tuple[dict[str, float], bool]:
        """Apply ``command`` for one control interval (or ``seconds``); returns the observation
        at its end and whether the cycle has ended. When the command carries an
        :class:`Interlock`, :attr:`tripped_at` is the second it tripped at (else ``None``)."""
        if self.done:
            raise InputError("the episode has ended: call reset")
        if not np.isfinite(command.setpoint_c):
            raise InputError(f"setpoint must be a finite °C value, got {command.setpoint_c!r}")
        span = self.step_s if seconds is None else int(seconds)
        stop = min(self._i + span, self.n - 1)
        self.tripped_at = None
        lock = command.interlock
        if lock is None:
            self._commit(self._window(command, stop), stop, command.setpoint_c)
        elif self.per_second:
            self._step_seconds(command, lock, stop)
        else:
            start, veh = self._i, self._window(command, stop)
            trace = (
                np.asarray(veh["cabin"]["LumpedCabin"]["history"]["temperature_kelvin"], float)
                - KELVIN
            )
            k = lock.trip_at(trace)
            if k is None or start + k >= stop:  # no trip, or at the last second: nothing to redo
                self._commit(veh, stop, command.setpoint_c)
            else:  # from the state before the interval: k seconds relaxed, then the fallback
                self._commit(self._window(command, start + k), start + k, command.setpoint_c)
                fb = lock.fallback
                self._commit(self._window(fb, stop), stop, fb.setpoint_c)
            self._note_trip(start, k)
        return self._last_obs, self.done

    def _step_seconds(self, command: Command, lock: Interlock, stop: int) -> None:
        """True 1 Hz stepping: one FASTSim window per second, the interlock read after each."""
        start = self._i
        trace = [self._last_obs["cabin_temp"]]
        current = command
        while self._i < stop:
            nxt = self._i + 1
            self._commit(self._window(current, nxt), nxt, current.setpoint_c)
            trace.append(self._last_obs["cabin_temp"])
            if current is command:
                k = lock.trip_at(np.asarray(trace))
                if k is not None:
                    self._note_trip(start, k)
                    current = lock.fallback

    def _note_trip(self, start: int, k: int | None) -> None:
        if k is not None:
            self.tripped_at = int(k)
            self.episode.interlock_trips.append(start + int(k))

    def _window(
        self, command: Command, stop: int, veh: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run ``command`` from the current state (or from ``veh``, a vehicle dict at the
        current row) to row ``stop`` without committing; returns FASTSim's vehicle dict at the
        end (histories hold the window)."""
        start = self._veh if veh is None else veh
        self._apply(start["hvac"][_HVAC], command)
        fs = self._fastsim
        sim = fs.SimDrive(
            fs.Vehicle.from_dict(start),
            fs.Cycle.from_dict(_slice_cycle(self._cycle, self._i, stop)),
        )
        sim.run_once()
        end: dict[str, Any] = sim.to_dict()["veh"]
        return end

    def _commit(self, veh: dict[str, Any], stop: int, setpoint: float) -> None:
        self._record(veh, stop, float(setpoint))
        self._veh = _reset_histories(veh)
        self._i = stop

    def _apply(self, hvac: dict[str, Any], command: Command) -> None:
        """Write ``command`` into the vehicle's HVAC section (caps only ever lower the shipped
        limits)."""
        if not (np.isfinite(command.gain_scale) and command.gain_scale > 0):
            raise InputError(f"gain_scale must be a positive number, got {command.gain_scale!r}")
        shipped = self._veh0["hvac"][_HVAC]
        hvac["te_set_cab_kelvin"] = float(command.setpoint_c) + KELVIN
        for key, cap in (
            ("pwr_aux_for_hvac_cab_max_watts", command.power_cap_w),
            ("pwr_aux_for_hvac_res_max_watts", command.pack_cap_w),
        ):
            limit = shipped[key]
            hvac[key] = limit if cap is None else min(limit, max(0.0, float(cap)))
        for key in ("p_cabin_watts_per_kelvin", "i_cabin"):
            hvac[key] = shipped[key] * float(command.gain_scale)

    def preview(self, command: Command, seconds: int) -> tuple[FloatArray, FloatArray]:
        """Run ``command`` for ``seconds`` from the current state without committing: the cabin
        temperature (°C) and HVAC electric power (W) per second. Only the oracle uses this."""
        stop = min(self._i + int(seconds), self.n - 1)
        if stop <= self._i:
            return np.zeros(0), np.zeros(0)
        out = self._window(command, stop, _deepcopy(self._veh))  # the episode's state untouched
        hv = out["hvac"][_HVAC]["history"]
        cab = np.asarray(out["cabin"]["LumpedCabin"]["history"]["temperature_kelvin"][1:]) - KELVIN
        power = np.asarray(hv["pwr_aux_for_cab_hvac_watts"][1:], dtype=float) + np.asarray(
            hv["pwr_aux_for_res_hvac_watts"][1:], dtype=float
        )
        return np.asarray(cab, dtype=float), power

    # ---------------------------------------------------------------- observation
    def _observe_initial(self) -> dict[str, float]:
        v = self._veh
        return {
            "cabin_temp": v["cabin"]["LumpedCabin"]["state"]["temperature_kelvin"] - KELVIN,
            "battery_temp": v["pt_type"]["BEV"]["res"]["thrml"]["RESLumpedThermal"]["state"][
                "temperature_kelvin"
            ]
            - KELVIN,
            "ambient_temp": float(self._cycle["temp_amb_air_kelvin"][0]) - KELVIN,
            "speed": float(self._cycle["speed_meters_per_second"][0]),
            "soc": float(v["pt_type"]["BEV"]["res"]["state"]["soc"]),
            "hvac_power": 0.0,
        }

    def _record(self, veh: dict[str, Any], stop: int, setpoint: float) -> None:
        bev = veh["pt_type"]["BEV"]["res"]
        hv = veh["hvac"][_HVAC]["history"]
        # histories hold the window's first (carried-over) sample too: drop it.
        cab_w = np.asarray(hv["pwr_aux_for_cab_hvac_watts"][1:], dtype=float)
        res_w = np.asarray(hv["pwr_aux_for_res_hvac_watts"][1:], dtype=float)
        rows = {
            "cabin_temp": np.asarray(
                veh["cabin"]["LumpedCabin"]["history"]["temperature_kelvin"][1:], dtype=float
            )
            - KELVIN,
            "battery_temp": np.asarray(
                bev["thrml"]["RESLumpedThermal"]["history"]["temperature_kelvin"][1:], dtype=float
            )
            - KELVIN,
            "ambient_temp": np.asarray(
                self._cycle["temp_amb_air_kelvin"][self._i + 1 : stop + 1], dtype=float
            )
            - KELVIN,
            "speed": np.asarray(veh["history"]["speed_ach_meters_per_second"][1:], dtype=float),
            "soc": np.asarray(bev["history"]["soc"][1:], dtype=float),
            "hvac_power": cab_w + res_w,
        }
        log = self.episode.log
        for key, arr in rows.items():
            log[key] = np.concatenate([log[key], arr])
        log["setpoint"] = np.concatenate([log["setpoint"], np.full(len(cab_w), setpoint)])
        if np.isnan(log["setpoint"][0]):  # the first row is logged before any command
            log["setpoint"][0] = setpoint
        ep = self.episode
        ep.hvac_cabin_power = np.concatenate([ep.hvac_cabin_power, cab_w])
        ep.hvac_battery_power = np.concatenate([ep.hvac_battery_power, res_w])
        # Energies and distance in the carried-over state are cumulative since reset.
        ep.battery_energy_j = float(bev["state"]["energy_out_chemical_joules"])
        ep.distance_m = float(veh["state"]["dist_meters"])
        self._last_obs = {k: float(v[-1]) for k, v in rows.items()}
        self._last_obs["hvac_power"] = float(np.mean(rows["hvac_power"]))

    def _append_row(
        self, obs: dict[str, float], setpoint: float, cab_w: float, res_w: float
    ) -> None:
        log = self.episode.log
        for key in CHANNELS:
            log[key] = np.append(log[key], obs[key])
        log["setpoint"] = np.append(log["setpoint"], setpoint)
        ep = self.episode
        ep.hvac_cabin_power = np.append(ep.hvac_cabin_power, cab_w)
        ep.hvac_battery_power = np.append(ep.hvac_battery_power, res_w)
        self._last_obs = obs

    # ---------------------------------------------------------------- scoring helpers
    @property
    def pack_window_c(self) -> tuple[float, float]:
        """The pack temperature window the stock battery loop keeps (°C: its setpoint ± its
        deadband). Scoring only: no controller or learner reads it."""
        h = self._veh0["hvac"][_HVAC]
        centre = float(h["te_set_res_kelvin"]) - KELVIN
        band = float(h["te_deadband_res_kelvin"])
        return centre - band, centre + band

    @property
    def usable_energy_j(self) -> float:
        """Usable battery energy, J (capacity x SOC window): the benchmark's range scale."""
        res = self._veh0["pt_type"]["BEV"]["res"]
        return float(res["energy_capacity_joules"]) * float(res["max_soc"] - res["min_soc"])


def _deepcopy(d: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(d)
