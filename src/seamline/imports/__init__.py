"""Bulk import: a source's records (CSV, JSON Lines, Parquet files or a SQL query) mapped to Segment messages and
appended to the inbox."""
