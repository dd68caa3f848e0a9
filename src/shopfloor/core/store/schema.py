"""Database schema and its migrations.

``MIGRATIONS[i]`` brings a store from schema version ``i`` to ``i + 1``. Append, never edit:
stores in the field were created by earlier lists.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 0 -> 1: the first schema
    [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE datasets (
            name VARCHAR PRIMARY KEY, version VARCHAR, source VARCHAR,
            prepared_at TIMESTAMPTZ, n_assets INTEGER, n_recordings INTEGER,
            bytes BIGINT, checksums VARCHAR)""",
        """CREATE TABLE assets (
            id VARCHAR PRIMARY KEY, kind VARCHAR, criticality VARCHAR, dataset VARCHAR,
            doc VARCHAR)""",
        """CREATE TABLE channels (
            asset_id VARCHAR, id VARCHAR, quantity VARCHAR, unit VARCHAR,
            sample_rate_hz DOUBLE, PRIMARY KEY (asset_id, id))""",
        """CREATE TABLE recordings (
            id VARCHAR PRIMARY KEY, asset_id VARCHAR, dataset VARCHAR, n_samples BIGINT,
            time_base VARCHAR, sample_rate_hz DOUBLE, start TIMESTAMPTZ, path VARCHAR,
            bytes BIGINT, doc VARCHAR)""",
        """CREATE TABLE labels (
            recording_id VARCHAR, kind VARCHAR, location VARCHAR, doc VARCHAR)""",
        """CREATE TABLE features (
            asset_id VARCHAR, recording_id VARCHAR, t DOUBLE, name VARCHAR, value DOUBLE,
            computed_at TIMESTAMPTZ)""",
        """CREATE TABLE events (
            id VARCHAR PRIMARY KEY, asset_id VARCHAR, kind VARCHAR, start TIMESTAMPTZ,
            "end" TIMESTAMPTZ, severity VARCHAR, summary VARCHAR, evidence VARCHAR,
            source VARCHAR, created TIMESTAMPTZ)""",
        """CREATE TABLE models (
            id VARCHAR PRIMARY KEY, name VARCHAR, path VARCHAR, version_record VARCHAR,
            created TIMESTAMPTZ)""",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)
