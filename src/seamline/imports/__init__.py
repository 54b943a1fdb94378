"""Bulk import: files of a source's records (CSV, JSON Lines) mapped to Segment messages and appended to the inbox."""
