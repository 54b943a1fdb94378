"""The event pipeline: identity resolves a batch, then each registered consumer takes it (docs/pipeline.md)."""
