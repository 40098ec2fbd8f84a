"""Lint-time stand-in for dbt's `target`: models are linted as DuckDB (the .sqlfluff dialect)."""

type = "duckdb"  # noqa: A001 - mirrors target.type
name = "duckdb"
schema = "main"
