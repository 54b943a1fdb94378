"""Identity: typed identifiers, the identity graph, merge guards, explainable and undoable merges."""
