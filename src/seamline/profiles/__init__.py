"""Profiles: what is known of each customer — traits with provenance, holdings, and the timeline."""
