"""Privacy: data-subject requests (access exports, erasure) and the tombstones erasure leaves behind."""
