"""``import_table`` / ``load_mapping``: the plant's own CSV and Parquet exports into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopfloor.acquisition import (
    AssetSpec,
    ImportReport,
    TableError,
    TableMapping,
    import_table,
    load_mapping,
)
from shopfloor.acquisition import sources as sources_module
from shopfloor.core.assets import Asset, AssetKind, Criticality, Direction
from shopfloor.core.errors import InputError, UnitError
from shopfloor.core.recording import TimeBaseKind
from shopfloor.core.store import Store
from shopfloor.core.units import Quantity

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "import"

HEADER = "time,temp,current,vib"
MAPPING = """\
format: {format}
time:
  column: time
  timezone: Europe/Berlin
channels:
  - {{column: temp, id: bearing_temp, quantity: temperature, unit: degC}}
  - {{column: current, id: motor_current, quantity: current, unit: {current_unit}}}
  - {{column: vib, id: vib_de, quantity: velocity, unit: mm/s, direction: radial_horizontal}}
asset:
  id: M-1
  kind: induction_motor
  criticality: A
  nameplate: {{rated_power_kw: 15, poles: 4}}
  external_ids: {{cmms_id: "EQ-1", opcua_node: "ns=2;s=M1", mqtt_topic: plant/m1}}
"""


def rows(n: int, start_minute: int = 0) -> list[str]:
    return [
        f"2024-05-14 08:{start_minute:02d}:{i:02d},{50 + i * 0.25},{27.5 - i * 0.1:.1f},{1.5 + i}"
        for i in range(n)
    ]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mapping_file(tmp_path: Path, *, fmt: str = "csv", current_unit: str = "A") -> Path:
    text = MAPPING.format(format=fmt, current_unit=current_unit)
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> TableMapping:
    return load_mapping(mapping_file(tmp_path))


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "export.csv", [HEADER, *rows(10)])


def stored_ids(store: Store) -> list[str]:
    return [r.id for r in store.recordings()]


# ------------------------------------------------------------------------------ happy paths
def test_example_files_import(store: Store) -> None:
    mapping = load_mapping(EXAMPLES / "motor_mapping.yaml")
    report = import_table(EXAMPLES / "motor_export.csv", mapping, store)
    assert isinstance(report, ImportReport)
    assert report.rows == 60
    assert report.channels == ("bearing_temp_de", "motor_current", "vib_velocity_de_h")
    data = store.load(report.recording_id)
    tb = data.recording.time_base
    assert tb.kind == TimeBaseKind.UNIFORM
    assert tb.sample_rate_hz == 1.0
    # 08:12 in Berlin in May is CEST (UTC+2).
    assert tb.start == datetime(2024, 5, 14, 6, 12, tzinfo=UTC)
    assert data.channel("bearing_temp_de")[0] == 58.23
    asset = store.asset("P-101-M")
    assert asset.nameplate.rated_power_kw == 15
    assert asset.external_ids.cmms_id == "EQ-10042"
    assert "rows x 3 channels" in str(report)


def test_csv_round_trips_values_and_metadata(
    store: Store, mapping: TableMapping, good_csv: Path
) -> None:
    report = import_table(good_csv, mapping, store)
    assert report.recording_id == "M-1.export"
    assert report.bytes == good_csv.stat().st_size
    assert report.time_base == TimeBaseKind.UNIFORM
    assert "evenly spaced" in report.time_base_note
    data = store.load("M-1.export")
    np.testing.assert_array_equal(data.channel("bearing_temp"), [50 + i * 0.25 for i in range(10)])
    np.testing.assert_array_equal(data.channel("vib_de"), [1.5 + i for i in range(10)])
    rec = data.recording
    assert rec.asset_id == "M-1"
    assert rec.channel_ids == ["bearing_temp", "motor_current", "vib_de"]
    assert rec.source == str(good_csv.resolve())
    assert rec.dataset is None
    asset = store.asset("M-1")
    assert asset.kind == AssetKind.INDUCTION_MOTOR
    assert asset.criticality == Criticality.A
    assert asset.nameplate.poles == 4
    assert asset.external_ids.mqtt_topic == "plant/m1"
    vib = asset.channel("vib_de")
    assert (vib.quantity, vib.unit, vib.direction) == (
        Quantity.VELOCITY,
        "mm/s",
        Direction.RADIAL_HORIZONTAL,
    )
    assert vib.sample_rate_hz == 1.0


def test_parquet_round_trips(store: Store, tmp_path: Path) -> None:
    stamps = pd.date_range("2024-05-14 06:00", periods=8, freq="500ms", tz="UTC")
    values = np.linspace(-3.5, 120.25, 8)
    table = pa.table(
        {
            "time": pa.array(stamps),
            "temp": pa.array(values),
            "current": pa.array(np.arange(8), pa.int32()),
            "vib": pa.array([f"{v:.3f}" for v in values]),  # text columns are parsed like CSV cells
        }
    )
    path = tmp_path / "export.parquet"
    pq.write_table(table, path)
    mapping = load_mapping(mapping_file(tmp_path, fmt="auto"))
    report = import_table(path, mapping, store)
    data = store.load(report.recording_id)
    np.testing.assert_array_equal(data.channel("bearing_temp"), values)
    np.testing.assert_array_equal(data.channel("motor_current"), np.arange(8.0))
    np.testing.assert_allclose(data.channel("vib_de"), values, atol=5e-4)
    assert data.recording.time_base.sample_rate_hz == 2.0
    assert data.recording.time_base.start == datetime(2024, 5, 14, 6, tzinfo=UTC)


def test_fixed_rate_with_german_dialect_preamble_and_units_row(
    store: Store, tmp_path: Path
) -> None:
    csv = tmp_path / "daq.csv"
    csv.write_text(
        "Messung;Pumpe 3\nExportiert;14.05.2024\nBeschl.;Strom\ng;A\n"
        "0,125;12,5\n-1,5e-2;12,75\n 3 ;13\n",
        encoding="cp1252",
    )
    (tmp_path / "m.yaml").write_text(
        """
delimiter: ";"
decimal: ","
encoding: cp1252
header_row: 3
skip_rows_after_header: 1
time: {sample_rate_hz: 25.6 kHz, start: "2024-05-14T10:00:00", timezone: Europe/Berlin}
channels:
  - {column: Beschl., id: acc, quantity: acceleration, unit: g}
  - {column: Strom, id: i, quantity: current, unit: A}
asset: {id: P-3, kind: pump}
""",
        encoding="utf-8",
    )
    report = import_table(csv, load_mapping(tmp_path / "m.yaml"), store)
    data = store.load(report.recording_id)
    assert data.channel("acc").tolist() == [0.125, -0.015, 3.0]
    assert data.channel("i").tolist() == [12.5, 12.75, 13.0]
    tb = data.recording.time_base
    assert (tb.kind, tb.sample_rate_hz) == (TimeBaseKind.UNIFORM, 25600.0)
    assert tb.start == datetime(2024, 5, 14, 8, tzinfo=UTC)
    assert store.asset("P-3").channel("acc").sample_rate_hz == 25600.0


def test_irregular_timestamps_are_kept(store: Store, mapping: TableMapping, tmp_path: Path) -> None:
    lines = [
        HEADER,
        "2024-05-14 08:00:00,1,2,3",
        "2024-05-14 08:00:01,1,2,3",
        "2024-05-14 08:00:05,1,2,3",
    ]
    report = import_table(write(tmp_path / "irr.csv", lines), mapping, store)
    assert report.time_base == TimeBaseKind.TIMESTAMPS
    samples = store.load(report.recording_id).samples
    expected = pd.to_datetime(
        ["2024-05-14 06:00:00", "2024-05-14 06:00:01", "2024-05-14 06:00:05"]
    ).tz_localize("UTC")
    assert list(samples["timestamp"]) == list(expected)


def test_progress_is_reported(store: Store, mapping: TableMapping, good_csv: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    import_table(good_csv, mapping, store, progress=lambda d, t, w: calls.append((d, t, w)))
    assert calls[0] == (0, 10, "export.csv")
    assert calls[-1] == (10, 10, "stored")
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_trailing_blank_lines_are_ignored(
    store: Store, mapping: TableMapping, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\n".join([HEADER, *rows(3)]) + "\n\n\n", encoding="utf-8")
    assert import_table(path, mapping, store).rows == 3


def test_missing_values_need_allow_missing(store: Store, tmp_path: Path) -> None:
    lines = [
        HEADER,
        "2024-05-14 08:00:00,1,,3",
        "2024-05-14 08:00:01,1,NaN,3",
        "2024-05-14 08:00:02,1,2,3",
    ]
    csv = write(tmp_path / "gaps.csv", lines)
    with pytest.raises(TableError) as info:
        import_table(csv, load_mapping(mapping_file(tmp_path)), store)
    assert [(p.line, p.column) for p in info.value.problems] == [(2, "current"), (3, "current")]
    assert "allow_missing" in str(info.value)

    text = (
        (tmp_path / "mapping.yaml").read_text().replace("unit: A}", "unit: A, allow_missing: true}")
    )
    (tmp_path / "mapping.yaml").write_text(text)
    report = import_table(csv, load_mapping(tmp_path / "mapping.yaml"), store)
    current = store.load(report.recording_id).channel("motor_current")
    assert np.isnan(current[:2]).all()
    assert current[2] == 2.0


def test_second_file_of_an_asset_keeps_earlier_channels(store: Store, tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path))
    import_table(write(tmp_path / "a.csv", [HEADER, *rows(3)]), mapping, store)
    only_temp = mapping.model_copy(update={"channels": mapping.channels[:1]})
    import_table(write(tmp_path / "b.csv", [HEADER, *rows(3)]), only_temp, store)
    assert [c.id for c in store.asset("M-1").channels] == [
        "motor_current",
        "vib_de",
        "bearing_temp",
    ]
    assert store.asset("M-1").criticality == Criticality.A

    path = mapping_file(tmp_path)
    path.write_text(path.read_text().replace("unit: degC", "unit: K"))
    in_kelvin = load_mapping(path)
    with pytest.raises(InputError, match="stored as temperature in 'degC'") as info:
        import_table(write(tmp_path / "c.csv", [HEADER, *rows(3)]), in_kelvin, store)
    assert info.value.column == "channels[0].unit"


# ------------------------------------------------------------------------------ bad rows
def test_too_many_fields_names_file_and_line_and_changes_nothing(
    store: Store, mapping: TableMapping, good_csv: Path, tmp_path: Path
) -> None:
    import_table(good_csv, mapping, store)
    before = store.load("M-1.export").samples.copy()
    lines = [HEADER, *rows(5, start_minute=1)]
    lines[3] += ",99"  # line 4 of the file
    bad = write(tmp_path / "bad.csv", lines)
    with pytest.raises(TableError) as info:
        import_table(bad, mapping, store)
    err = info.value
    assert (err.source, err.line) == (str(bad), 4)
    assert "5 fields where the header has 4" in str(err)
    assert str(err).startswith(f"{bad}, line 4: ")
    assert stored_ids(store) == ["M-1.export"]
    pd.testing.assert_frame_equal(store.load("M-1.export").samples, before)


def test_non_number_names_line_and_column(
    store: Store, mapping: TableMapping, good_csv: Path, tmp_path: Path
) -> None:
    import_table(good_csv, mapping, store)
    lines = [HEADER, *rows(5, start_minute=1)]
    lines[2] = lines[2].replace(",27.4,", ",27.4 A,")
    bad = write(tmp_path / "bad.csv", lines)
    with pytest.raises(TableError) as info:
        import_table(bad, mapping, store)
    err = info.value
    assert (err.source, err.line, err.column) == (str(bad), 3, "current")
    assert "not a number: '27.4 A'" in str(err)
    assert stored_ids(store) == ["M-1.export"]
    assert store.load("M-1.export").recording.n_samples == 10


def test_all_problems_are_listed_in_file_order(
    store: Store, mapping: TableMapping, tmp_path: Path
) -> None:
    lines = [HEADER, *rows(8)]
    lines[6] = lines[6].replace("2024-05-14 08:00:05", "2024-05-14 08:00:01")  # backwards
    lines[2] = lines[2] + ",extra"
    lines[4] = "2024-05-14 08:00:03,hot,1,"  # not a number, and a missing value
    lines.insert(8, "")  # blank line inside the data
    with pytest.raises(TableError) as info:
        import_table(write(tmp_path / "bad.csv", lines), mapping, store)
    got = [(p.line, p.column) for p in info.value.problems]
    assert got == [(3, None), (5, "temp"), (5, "vib"), (7, "time"), (9, None)]
    assert info.value.found == 5
    assert "is earlier than the one before it" in info.value.problems[3].message


def test_many_problems_are_capped(store: Store, mapping: TableMapping, tmp_path: Path) -> None:
    lines = [HEADER, *(f"2024-05-14 08:{i // 60:02d}:{i % 60:02d},x,1,1" for i in range(500))]
    with pytest.raises(TableError) as info:
        import_table(write(tmp_path / "bad.csv", lines), mapping, store, max_problems=7)
    assert len(info.value.problems) == 7
    assert [p.line for p in info.value.problems] == list(range(2, 9))


def test_bad_rows_across_chunk_edges_keep_their_line_numbers(
    store: Store, mapping: TableMapping, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_module, "CSV_BLOCK_BYTES", 200)
    lines = [HEADER, *(f"2024-05-14 08:{i // 60:02d}:{i % 60:02d},1,2,3" for i in range(100))]
    for line in (10, 11, 57):  # 1-based
        lines[line - 1] += ",4"
    lines[80 - 1] = lines[80 - 1].replace(",2,", ",two,")
    with pytest.raises(TableError) as info:
        import_table(write(tmp_path / "bad.csv", lines), mapping, store)
    assert [(p.line, p.column) for p in info.value.problems] == [
        (10, None),
        (11, None),
        (57, None),
        (80, "current"),
    ]


def test_naive_timestamps_need_a_timezone(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(mapping_file(tmp_path).read_text().replace("  timezone: Europe/Berlin\n", ""))
    with pytest.raises(InputError, match=r"no UTC offset; set time\.timezone") as info:
        import_table(write(tmp_path / "e.csv", [HEADER, *rows(3)]), load_mapping(path), store)
    assert (info.value.line, info.value.column) == (2, "time")


def test_nonexistent_local_time_is_reported(
    store: Store, mapping: TableMapping, tmp_path: Path
) -> None:
    lines = [HEADER, "2024-03-31 01:59:00,1,2,3", "2024-03-31 02:30:00,1,2,3"]
    with pytest.raises(TableError, match="daylight-saving") as info:
        import_table(write(tmp_path / "dst.csv", lines), mapping, store)
    assert (info.value.line, info.value.column) == (3, "time")


def test_missing_column_is_named(store: Store, mapping: TableMapping, tmp_path: Path) -> None:
    lines = ["time,temperature,current,vib", *rows(2)]
    with pytest.raises(InputError, match="did you mean 'temperature'") as info:
        import_table(write(tmp_path / "m.csv", lines), mapping, store)
    assert (info.value.line, info.value.column) == (1, "temp")
    assert stored_ids(store) == []


def test_header_only_file(store: Store, mapping: TableMapping, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no data rows"):
        import_table(write(tmp_path / "e.csv", [HEADER]), mapping, store)


def test_missing_file(store: Store, mapping: TableMapping, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        import_table(tmp_path / "nope.csv", mapping, store)


def test_an_empty_or_binary_file_says_so_before_an_id_clash(
    store: Store, mapping: TableMapping, good_csv: Path
) -> None:
    import_table(good_csv, mapping, store)
    # the same file name (so the same recording id), now empty, then binary: the file's own
    # problem is the one to fix, not "already imported; use --replace"
    good_csv.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        import_table(good_csv, mapping, store)
    good_csv.write_bytes(b"\x89\x00\x01\x02binary" * 10)
    with pytest.raises(InputError, match="binary content"):
        import_table(good_csv, mapping, store)
    assert stored_ids(store) == ["M-1.export"]


# ------------------------------------------------------------------------------ twice / replace
def test_duplicate_import_is_refused(store: Store, mapping: TableMapping, good_csv: Path) -> None:
    import_table(good_csv, mapping, store)
    with pytest.raises(InputError, match="already imported; use --replace"):
        import_table(good_csv, mapping, store)
    assert stored_ids(store) == ["M-1.export"]


def test_replace_overwrites_the_earlier_import(
    tmp_path: Path, mapping: TableMapping, good_csv: Path
) -> None:
    home = tmp_path / "home"
    with Store.open(home) as store:
        import_table(good_csv, mapping, store)
        old_files = {p.name for p in (home / "waveforms").rglob("*.parquet")}
        write(good_csv, [HEADER, *(r.replace(",27.", ",31.") for r in rows(4))])
        report = import_table(good_csv, mapping, store, replace=True)
        assert report.replaced
        assert stored_ids(store) == ["M-1.export"]
        data = store.load("M-1.export")
        assert data.recording.n_samples == 4
        assert data.channel("motor_current")[0] == 31.5
    with Store.open(home) as store:  # the store's clean-up removes the replaced file
        new_files = {p.name for p in (home / "waveforms").rglob("*.parquet")}
        assert len(new_files) == 1
        assert not new_files & old_files
        assert store.load("M-1.export").recording.n_samples == 4


def test_failed_replace_keeps_the_earlier_import(
    store: Store, mapping: TableMapping, good_csv: Path
) -> None:
    import_table(good_csv, mapping, store)
    write(good_csv, [HEADER, "2024-05-14 08:00:00,oops,1,1"])
    with pytest.raises(TableError):
        import_table(good_csv, mapping, store, replace=True)
    assert store.load("M-1.export").recording.n_samples == 10


def test_ids_of_prepared_datasets_are_refused(
    store: Store, mapping: TableMapping, good_csv: Path
) -> None:
    taken = Asset(id="M-1", kind=AssetKind.INDUCTION_MOTOR)
    with store.batch("cwru") as batch:
        batch.add_asset(taken)
    with pytest.raises(InputError, match="belongs to the prepared dataset 'cwru'"):
        import_table(good_csv, mapping, store)


# ------------------------------------------------------------------------------ mapping file
def test_unknown_unit_is_a_unit_error_naming_the_field(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, current_unit="amperes_per_banana")
    with pytest.raises(UnitError) as info:
        load_mapping(path)
    err = info.value
    assert (err.source, err.line, err.column) == (str(path), 7, "channels[1].unit")
    assert "unknown unit 'amperes_per_banana'" in str(err)


def test_unit_of_the_wrong_quantity_is_a_unit_error(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, current_unit="bar")
    with pytest.raises(UnitError, match="'bar' is not a current unit") as info:
        load_mapping(path)
    assert (info.value.line, info.value.column) == (7, "channels[1].unit")


def test_typo_in_a_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    path = mapping_file(tmp_path)
    path.write_text(path.read_text().replace("  criticality: A", "  criticallity: A"))
    with pytest.raises(InputError, match="did you mean 'criticality'") as info:
        load_mapping(path)
    assert (info.value.line, info.value.column) == (12, "asset.criticallity")


def test_several_mapping_problems_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "time: {column: t, timezone: Mars/Olympus}\n"
        "channels:\n  - {column: a, id: a, quantity: speed, unit: m/s}\n"
        "asset: {id: x, kind: pump}\n"
    )
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert info.value.column == "time.timezone"
    assert "line 3, channels[0].quantity" in str(info.value)


def test_duplicate_key_and_yaml_syntax_report_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("format: csv\ndelimiter: ';'\nformat: parquet\n")
    with pytest.raises(InputError, match="given twice") as info:
        load_mapping(path)
    assert info.value.line == 3
    path.write_text("format: csv\nchannels: [\n  {a: 1\n")
    with pytest.raises(InputError, match="not valid YAML") as info:
        load_mapping(path)
    assert info.value.line is not None


def test_time_needs_exactly_one_source(tmp_path: Path) -> None:
    path = mapping_file(tmp_path)
    path.write_text(path.read_text().replace("  timezone:", "  sample_rate_hz: 10\n  timezone:"))
    with pytest.raises(InputError, match="either 'column'") as info:
        load_mapping(path)
    assert (info.value.line, info.value.column) == (2, "time")


def test_cross_field_errors_point_at_the_field(tmp_path: Path) -> None:
    path = mapping_file(tmp_path)
    path.write_text(path.read_text().replace("column: vib, id: vib_de", "column: temp, id: vib_de"))
    with pytest.raises(InputError, match=r"already used by channels\[0\]\.column") as info:
        load_mapping(path)
    assert (info.value.line, info.value.column) == (8, "channels[2].column")


def test_asset_block_has_the_asset_fields() -> None:
    # The asset block is core's Asset minus channels; keep them in step.
    assert set(AssetSpec.model_fields) == set(Asset.model_fields) - {"channels"}


# ------------------------------------------------------------------------------ more time forms
def test_a_few_rows_without_offset_are_reported(
    store: Store, mapping: TableMapping, tmp_path: Path
) -> None:
    lines = [HEADER, *(f"2024-05-14T08:00:0{i}+02:00,1,2,3" for i in range(6))]
    lines[4] = "2024-05-14T08:00:03,1,2,3"  # local time, although the zone would make it fit
    with pytest.raises(TableError, match="one of the few written without a UTC offset") as info:
        import_table(write(tmp_path / "mixed.csv", lines), mapping, store)
    assert [(p.line, p.column) for p in info.value.problems] == [(5, "time")]


def test_parquet_naive_timestamps_and_row_numbers(store: Store, tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, fmt="parquet"))
    stamps = pd.date_range("2024-05-14 08:00", periods=4, freq="1s")  # naive: Berlin wall time
    table = pa.table(
        {
            "time": pa.array(stamps),
            "temp": pa.array([1.0, 2.0, None, 4.0]),
            "current": pa.array([1, 2, 3, 4]),
            "vib": pa.array([0.5, 0.5, 0.5, 0.5]),
        }
    )
    pq.write_table(table, tmp_path / "gap.pq")
    with pytest.raises(TableError) as info:
        import_table(tmp_path / "gap.pq", mapping, store)
    assert (info.value.line, info.value.column) == (3, "temp")  # 1-based row of the Parquet file

    pq.write_table(table.set_column(1, "temp", pa.array([1.0, 2.0, 3.0, 4.0])), tmp_path / "ok.pq")
    data = store.load(import_table(tmp_path / "ok.pq", mapping, store).recording_id)
    assert data.recording.time_base.start == datetime(2024, 5, 14, 6, tzinfo=UTC)


def test_parquet_epoch_seconds(store: Store, tmp_path: Path) -> None:
    path = mapping_file(tmp_path, fmt="parquet")
    path.write_text(path.read_text().replace("  timezone: Europe/Berlin", "  format: unix_s"))
    seconds = [1_715_673_600, 1_715_673_601, 1_715_673_603]
    table = pa.table({"time": seconds, "temp": [1.0] * 3, "current": [2.0] * 3, "vib": [3.0] * 3})
    pq.write_table(table, tmp_path / "epoch.parquet")
    report = import_table(tmp_path / "epoch.parquet", load_mapping(path), store)
    samples = store.load(report.recording_id).samples
    assert report.time_base == TimeBaseKind.TIMESTAMPS
    assert [t.timestamp() for t in samples["timestamp"]] == seconds
