"""Ingestion: the tracking API (Segment/RudderStack wire format), the durable inbox and its worker steps."""
