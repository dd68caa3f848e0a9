"""Operating logs through the import path, comfort arithmetic, the MPC decision rule, and the
controllers on the plant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopfloor.acquisition import TableError
from shopfloor.control.comfort import ComfortSpec, comfort_metrics, warmup_s
from shopfloor.control.logs import import_logs, logs_from_store, record_logs
from shopfloor.control.mpc import SamplingMPC, choose
from shopfloor.control.simulator import LOG_COLUMNS, CabinSimulator, check_log
from shopfloor.control.synthetic import rc_cabin_log
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store


# --- comfort ---------------------------------------------------------------------------------
def test_comfort_metrics_known_answer() -> None:
    spec = ComfortSpec(22.0, 1.0)
    cabin = np.array([10.0, 20.0, 21.5, 24.0, 22.0, 20.5])  # 1 Hz
    assert warmup_s(cabin, spec) == 2.0
    m = comfort_metrics(cabin, spec, allowance_s=2.0)
    assert m["discomfort_kh"] == pytest.approx((1.0 + 0.5) / 3600.0)
    assert m["outside_pct"] == pytest.approx(50.0)
    assert m["max_excess_k"] == pytest.approx(1.0)
    assert warmup_s(np.full(5, 0.0), spec) == 5.0  # never reaches the band: the whole run


@pytest.mark.parametrize(
    ("setpoint", "band", "match"),
    [
        (22.0, 0.0, "half width 0.0 K must be > 0"),
        (22.0, -1.0, "must be > 0"),
        (45.0, 1.0, "setpoint 45.0 °C is outside"),
        (float("nan"), 1.0, "must be finite"),
    ],
)
def test_infeasible_comfort_band_is_refused(setpoint: float, band: float, match: str) -> None:
    with pytest.raises(InputError, match=match):
        ComfortSpec(setpoint, band)


def test_margin_that_eats_the_band_is_refused() -> None:
    sim = CabinSimulator(n_estimators=10).fit(rc_cabin_log(0.0, 0, n=300)[list(LOG_COLUMNS)])
    with pytest.raises(InputError, match=r"infeasible comfort band: margin 1\.0 K"):
        SamplingMPC(sim, ComfortSpec(22.0, 1.0), margin_k=1.0)


# --- MPC decision rule -----------------------------------------------------------------------
def test_choose_takes_the_cheapest_candidate_no_less_comfortable_than_stock() -> None:
    spec = ComfortSpec(22.0, 1.0)
    cands = np.array([21.0, 21.5, 22.5, 22.0])  # last: stock
    cabin = np.array([[20.5, 20.6], [21.3, 21.3], [21.5, 21.6], [21.2, 21.4]])
    power = np.array([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0], [3.0, 3.0]])
    assert choose(cands, cabin, power, spec, 0.0) == (21.5, "")
    # a 0.35 K margin: 21.3 °C no longer counts as inside, so comfort costs more energy
    assert choose(cands, cabin, power, spec, 0.35) == (22.5, "")


def test_choose_states_its_fallback_when_nothing_qualifies() -> None:
    spec = ComfortSpec(22.0, 1.0)
    cabin = np.array([[10.0], [np.nan]])
    setpoint, note = choose(np.array([20.0, 22.0]), cabin, np.ones((2, 1)), spec, 0.5)
    assert setpoint == 20.0
    assert "least discomfort" in note


# --- logs through the import path (FASTSim) -------------------------------------------------
@pytest.mark.usefixtures("fastsim_available")
def test_logs_round_trip_through_the_import_path(tmp_path: Path) -> None:
    paths = record_logs("bolt", tmp_path / "logs", ambients=(5.0,), cycles=("hwfet",))
    assert [p.name for p in paths] == [
        "hwfet.p5C.stock.csv",
        "hwfet.p5C.excited.csv",
    ]
    with Store.open(tmp_path / "home") as store:
        ids = import_logs(paths, store)
        log = logs_from_store(store, ids)
        assert store.asset("EV-bolt-HVAC").kind == "other"
        assert ids == ["EV-bolt-HVAC.hwfet.p5C.stock", "EV-bolt-HVAC.hwfet.p5C.excited"]
    raw = pd.read_csv(paths[1])
    stored = log[log["run"] == ids[1]]
    np.testing.assert_allclose(stored["cabin_temp"], raw["cabin_temp"])
    np.testing.assert_allclose(stored["time_s"], raw["time"] - raw["time"].iloc[0])
    assert raw["setpoint"].nunique() > 2  # the excitation moved the setpoint
    check_log(log)  # gap-free, finite


@pytest.mark.usefixtures("fastsim_available")
def test_log_with_nan_or_gap_is_a_clear_error_and_stores_nothing(tmp_path: Path) -> None:
    paths = record_logs("bolt", tmp_path / "logs", ambients=(5.0,), cycles=("hwfet",))
    lines = paths[0].read_text().splitlines()
    head = lines[0].split(",")
    cells = lines[11].split(",")
    cells[head.index("hvac_power")] = ""
    lines[11] = ",".join(cells)
    paths[0].write_text("\n".join(lines) + "\n")
    with Store.open(tmp_path / "home") as store:
        with pytest.raises(TableError) as err:
            import_logs(paths[:1], store)
        assert err.value.line == 12
        assert err.value.column == "hvac_power"
        assert store.recordings() == []
        # a gap: the import keeps real timestamps, the simulator refuses to learn across it
        gappy = pd.read_csv(paths[1])
        gappy = gappy.drop(index=range(100, 130))
        gappy.to_csv(paths[1], index=False)
        ids = import_logs(paths[1:], store)
        with pytest.raises(InputError, match="gap or step of 31 s"):
            check_log(logs_from_store(store, ids))


# --- closed loop on the plant (FASTSim) ------------------------------------------------------
@pytest.fixture(scope="module")
def warm_sim(tmp_path_factory: pytest.TempPathFactory) -> CabinSimulator:
    pytest.importorskip("fastsim", reason="NREL FASTSim not installed (shopfloor[hvac])")
    folder = tmp_path_factory.mktemp("logs")
    paths = record_logs("bolt", folder, ambients=(15.0, 20.0, 25.0, 35.0, 40.0), cycles=("udds",))
    with Store.open(folder / "home") as store:
        log = logs_from_store(store, import_logs(paths, store))
    return CabinSimulator(n_estimators=100).fit(log[list(LOG_COLUMNS)])


@pytest.mark.usefixtures("fastsim_available")
def test_mpc_saves_cooling_energy_without_losing_comfort(warm_sim: CabinSimulator) -> None:
    from shopfloor.control.mpc import score, stock_allowance
    from shopfloor.control.plant import CabinPlant
    from shopfloor.control.policies import run_episode

    plant, spec = CabinPlant("bolt"), ComfortSpec()
    stock_ep, allowance = stock_allowance(plant, "udds", 30.0, spec)
    stock = score(stock_ep, spec, allowance)
    mpc = SamplingMPC(warm_sim, spec)
    ours = score(run_episode(plant, mpc, "udds", 30.0, lookahead_s=240), spec, allowance)
    assert ours["hvac_wh"] < stock["hvac_wh"]
    # Quality floor, not a pass-tuned bound: at most 0.001 K·h (0.1 K over the band for 36 s)
    # more than stock; the benchmark reports the exact difference per cell.
    assert ours["discomfort_kh"] <= stock["discomfort_kh"] + 1e-3
    assert mpc.notes == []  # 30 °C lies inside the logged 15-40 °C


@pytest.mark.usefixtures("fastsim_available")
def test_mpc_says_when_it_extrapolates(warm_sim: CabinSimulator) -> None:
    from shopfloor.control.plant import CabinPlant
    from shopfloor.control.policies import run_episode

    mpc = SamplingMPC(warm_sim, ComfortSpec())
    run_episode(CabinPlant("bolt", step_s=30), mpc, "hwfet", 5.0, lookahead_s=240)
    assert any("outside logged 15.0..40.0 °C: extrapolating" in n for n in mpc.notes)


# --- observer, pack window, controller model -------------------------------------------------
def test_observer_is_a_leaky_mean_of_the_setpoint_error() -> None:
    from shopfloor.control.simulator import observer, observer_gain

    a = observer_gain(30)
    z = observer(np.full(200, 22.0), np.full(200, 21.0), 30)
    assert z[0] == pytest.approx(1.0 - a)  # first interval: (1 - a) x error
    assert z[-1] == pytest.approx(1.0, abs=1e-3)  # a steady 1 K error: the state reaches 1 K


def test_pack_outside_kh_known_answer() -> None:
    from shopfloor.control.mpc import pack_outside_kh
    from shopfloor.control.plant import Episode

    ep = Episode(log={"battery_temp": np.array([5.0, 7.0, 20.0, 38.0])})
    assert pack_outside_kh(ep, (7.0, 37.0)) == pytest.approx(3.0 / 3600.0)


def test_mpc_policy_replays_a_log_and_keeps_a_given_simulator() -> None:
    from shopfloor.control.policy_model import MPCPolicy

    log = rc_cabin_log(0.0, 0, n=600)[list(LOG_COLUMNS)]
    sim = CabinSimulator(n_estimators=10).fit(log)
    policy = MPCPolicy(simulator=sim, horizon_steps=2).fit(log)
    assert policy.simulator_.rc_cabin_.tolist() == sim.rc_cabin_.tolist()
    setpoints = policy.predict(log)
    assert setpoints.shape == (len(log),)
    # warm-up at the stock setpoint until the cabin reaches the band, then candidates only
    assert setpoints[0] == 22.0
    assert np.all((setpoints >= 19.0) & (setpoints <= 25.0))
    with pytest.raises(InputError, match="infeasible comfort band"):
        MPCPolicy(simulator=sim, margin_k=1.0).fit(log)
