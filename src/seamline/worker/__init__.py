"""The worker: processes the inbox in batches, each batch its own transaction."""
