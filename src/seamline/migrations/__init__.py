"""Alembic migrations; `seamline db upgrade` runs them."""
