"""The warehouse targets the end-to-end tests run on, and PostgreSQL scratch helpers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: DuckDB always; PostgreSQL when the GST_PG_* server is there (`.ci/run` starts one)
TARGETS = [
    "duckdb",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            os.environ.get("GST_TEST_POSTGRES") != "1",
            reason="PostgreSQL target runs when GST_TEST_POSTGRES=1 (set by .ci/run)",
        ),
    ),
]


def copy_raw_tables_to_postgres(duckdb_file: Path, pipelines_dir: Path) -> None:
    """The raw tables of `duckdb_file` into PostgreSQL (GST_PG_*), the way the loaders write
    them: one dlt pipeline per raw schema."""
    import dlt
    import duckdb

    from loaders.pipeline import destination
    from simulator.tables import TABLES

    dest = destination("postgres")[0]
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        by_schema: dict[str, list] = {}
        for schema, table, _ in TABLES:
            data = con.sql(f"select * from {schema}.{table}").to_arrow_table()
            by_schema.setdefault(schema, []).append(
                dlt.resource(data, name=table, write_disposition="replace")
            )
    for schema, resources in by_schema.items():
        pipeline = dlt.pipeline(
            pipeline_name=f"metrics_test_{schema}",
            destination=dest,
            dataset_name=schema,
            pipelines_dir=str(pipelines_dir),
        )
        pipeline.run(resources)


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A new database on the GST_PG_* server, dropped afterwards."""
    import psycopg2

    name = f"gst_metrics_{uuid.uuid4().hex[:8]}"
    con = psycopg2.connect(
        host=os.environ.get("GST_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("GST_PG_PORT", "5432")),
        user=os.environ.get("GST_PG_USER", "postgres"),
        password=os.environ.get("GST_PG_PASSWORD", ""),
        dbname=os.environ.get("GST_PG_DATABASE", "gst"),
    )
    con.autocommit = True
    try:
        con.cursor().execute(f"create database {name}")
        yield name
    finally:
        con.cursor().execute(f"drop database if exists {name} with (force)")
        con.close()
