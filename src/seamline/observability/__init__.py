"""Metrics and health: what operators watch."""
