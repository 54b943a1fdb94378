"""Destinations: other systems that receive profile changes and events as signed webhooks (Standard Webhooks)."""
