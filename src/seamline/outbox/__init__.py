"""The outbox: side effects written in the caller's transaction, delivered after commit by dispatchers."""
