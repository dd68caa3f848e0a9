"""Catalog schema (SQLite) and its migrations.

``MIGRATIONS[i]`` brings a catalog from schema version ``i`` to ``i + 1``. Append, never edit:
stores in the field were created by earlier lists. Version 1 is the table set of the DuckDB
catalog used up to schema 1 (``shopfloor.duckdb``); :mod:`.legacy` copies such a store's rows
into a new catalog before the later migrations run, so its data are kept.

Timestamps are ISO 8601 text in UTC (``...+00:00``), which sorts like time; stream sample
times are integer nanoseconds since the Unix epoch, so range queries use the index.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 0 -> 1: the first schema (the tables of the DuckDB catalog)
    [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
        """CREATE TABLE datasets (
            name TEXT PRIMARY KEY, version TEXT, source TEXT,
            prepared_at TEXT, n_assets INTEGER, n_recordings INTEGER,
            bytes INTEGER, checksums TEXT)""",
        """CREATE TABLE assets (
            id TEXT PRIMARY KEY, kind TEXT, criticality TEXT, dataset TEXT, doc TEXT)""",
        """CREATE TABLE channels (
            asset_id TEXT, id TEXT, quantity TEXT, unit TEXT,
            sample_rate_hz REAL, PRIMARY KEY (asset_id, id))""",
        """CREATE TABLE recordings (
            id TEXT PRIMARY KEY, asset_id TEXT, dataset TEXT, n_samples INTEGER,
            time_base TEXT, sample_rate_hz REAL, start TEXT, path TEXT,
            bytes INTEGER, doc TEXT)""",
        "CREATE TABLE labels (recording_id TEXT, kind TEXT, location TEXT, doc TEXT)",
        """CREATE TABLE features (
            asset_id TEXT, recording_id TEXT, t REAL, name TEXT, value REAL,
            computed_at TEXT)""",
        """CREATE TABLE events (
            id TEXT PRIMARY KEY, asset_id TEXT, kind TEXT, start TEXT,
            "end" TEXT, severity TEXT, summary TEXT, evidence TEXT,
            source TEXT, created TEXT)""",
        """CREATE TABLE models (
            id TEXT PRIMARY KEY, name TEXT, path TEXT, version_record TEXT, created TEXT)""",
    ],
    # 1 -> 2: streams and segments, event lifecycle, model registry, fleet
    [
        "CREATE INDEX recordings_dataset ON recordings (dataset)",
        "ALTER TABLE recordings ADD COLUMN sha256 TEXT",
        "CREATE INDEX labels_recording ON labels (recording_id)",
        # -- streams: one per (asset, channel); blocks live in per-asset, per-day segment files
        """CREATE TABLE streams (
            id TEXT PRIMARY KEY, asset_id TEXT NOT NULL, channel_id TEXT NOT NULL,
            sample_rate_hz REAL NOT NULL, codec TEXT NOT NULL, created TEXT NOT NULL,
            last_seq INTEGER, last_end_ns INTEGER, compacted_through_ns INTEGER,
            UNIQUE (asset_id, channel_id))""",
        """CREATE TABLE segments (
            id INTEGER PRIMARY KEY, asset_id TEXT NOT NULL, day TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE, codec TEXT NOT NULL, state TEXT NOT NULL,
            bytes INTEGER NOT NULL, sha256 TEXT, created TEXT NOT NULL)""",
        """CREATE TABLE blocks (
            stream_id TEXT NOT NULL, seq_lo INTEGER NOT NULL, seq_hi INTEGER NOT NULL,
            t0_ns INTEGER NOT NULL, t1_ns INTEGER NOT NULL, n INTEGER NOT NULL,
            segment_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
            crc32 INTEGER NOT NULL, codec TEXT NOT NULL, scale REAL,
            UNIQUE (stream_id, seq_lo, t0_ns))""",
        "CREATE INDEX blocks_seq ON blocks (stream_id, seq_hi)",
        "CREATE INDEX blocks_time ON blocks (stream_id, t1_ns)",
        "CREATE INDEX blocks_segment ON blocks (segment_id)",
        """CREATE TABLE quality (
            id INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, at TEXT NOT NULL,
            kind TEXT NOT NULL, seq INTEGER, detail TEXT NOT NULL)""",
        # -- events: lifecycle fields and an append-only history
        "ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'open'",
        "ALTER TABLE events ADD COLUMN resolution TEXT",
        "ALTER TABLE events ADD COLUMN dedup_key TEXT",
        "ALTER TABLE events ADD COLUMN model_id TEXT",
        "ALTER TABLE events ADD COLUMN component_id TEXT",
        "ALTER TABLE events ADD COLUMN channel_id TEXT",
        "ALTER TABLE events ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE events ADD COLUMN last_seen TEXT",
        "CREATE INDEX events_asset ON events (asset_id, start)",
        "CREATE INDEX events_dedup ON events (dedup_key, status)",
        """CREATE TABLE event_history (
            id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, at TEXT NOT NULL,
            who TEXT NOT NULL, action TEXT NOT NULL, note TEXT NOT NULL)""",
        # The history is evidence of who decided what: the database refuses to rewrite it.
        """CREATE TRIGGER event_history_no_update BEFORE UPDATE ON event_history
            BEGIN SELECT RAISE(ABORT, 'event history is append-only'); END""",
        """CREATE TRIGGER event_history_no_delete BEFORE DELETE ON event_history
            BEGIN SELECT RAISE(ABORT, 'event history is append-only'); END""",
        """CREATE TABLE feedback_labels (
            event_id TEXT PRIMARY KEY, asset_id TEXT NOT NULL, start TEXT NOT NULL,
            "end" TEXT, channel_id TEXT, component_id TEXT, kind TEXT NOT NULL,
            label TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL)""",
        # -- model registry
        "ALTER TABLE models ADD COLUMN sha256 TEXT",
        "ALTER TABLE models ADD COLUMN feature_config TEXT",
        "ALTER TABLE models ADD COLUMN training_data TEXT",
        "ALTER TABLE models ADD COLUMN metrics TEXT",
        "ALTER TABLE models ADD COLUMN created_by TEXT",
        """CREATE TABLE deployments (
            id INTEGER PRIMARY KEY, target TEXT NOT NULL, model_id TEXT NOT NULL,
            action TEXT NOT NULL, at TEXT NOT NULL, who TEXT NOT NULL, note TEXT NOT NULL)""",
        """CREATE TRIGGER deployments_no_update BEFORE UPDATE ON deployments
            BEGIN SELECT RAISE(ABORT, 'deployment history is append-only'); END""",
        # -- fleet
        "CREATE TABLE plants (id TEXT PRIMARY KEY, name TEXT, doc TEXT)",
        "CREATE TABLE lines (id TEXT PRIMARY KEY, plant_id TEXT NOT NULL, name TEXT)",
        "ALTER TABLE assets ADD COLUMN line_id TEXT",
        "ALTER TABLE channels ADD COLUMN source_address TEXT",
        "ALTER TABLE channels ADD COLUMN scale REAL NOT NULL DEFAULT 1.0",
        "ALTER TABLE channels ADD COLUMN offset REAL NOT NULL DEFAULT 0.0",
        """CREATE TABLE replacements (
            id INTEGER PRIMARY KEY, asset_id TEXT NOT NULL, component_id TEXT NOT NULL,
            at TEXT NOT NULL, who TEXT NOT NULL, note TEXT NOT NULL)""",
    ],
    # 2 -> 3: what the live loop keeps besides raw blocks (additive: new tables only)
    [
        # -- per-window results of a pipeline, idempotent on (pipeline, asset, channel, window);
        # ``decisions`` counts how often the window was written (more than 1: decided again,
        # e.g. after a restart; the first results are kept), so double counting is visible
        """CREATE TABLE window_results (
            pipeline TEXT NOT NULL, asset_id TEXT NOT NULL, channel_id TEXT NOT NULL,
            window_index INTEGER NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
            status TEXT NOT NULL, decided_ns INTEGER NOT NULL, results TEXT,
            decisions INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (pipeline, asset_id, channel_id, window_index)) WITHOUT ROWID""",
        "CREATE INDEX window_results_time ON window_results (asset_id, channel_id, end_ns)",
        # -- where each channel's windows start, so a restart cuts the same windows
        """CREATE TABLE window_origins (
            pipeline TEXT NOT NULL, asset_id TEXT NOT NULL, channel_id TEXT NOT NULL,
            origin_seq INTEGER NOT NULL, blocks_per_window INTEGER NOT NULL,
            start_ns INTEGER NOT NULL, block_samples INTEGER NOT NULL,
            PRIMARY KEY (pipeline, asset_id, channel_id)) WITHOUT ROWID""",
        # -- messages that never became a record: what came, when, why refused
        """CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY, source TEXT NOT NULL, topic TEXT,
            received_ns INTEGER NOT NULL, reason TEXT NOT NULL, payload BLOB,
            payload_bytes INTEGER, pipeline TEXT)""",
        "CREATE INDEX dead_letters_time ON dead_letters (received_ns)",
        # -- irregular scalar readings (temperature, speed), idempotent on (asset, channel, t)
        """CREATE TABLE scalars (
            asset_id TEXT NOT NULL, channel_id TEXT NOT NULL, t_ns INTEGER NOT NULL,
            value REAL NOT NULL, seq INTEGER,
            PRIMARY KEY (asset_id, channel_id, t_ns)) WITHOUT ROWID""",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)
