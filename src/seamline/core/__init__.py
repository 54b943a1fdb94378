"""Domain-free toolkit: database, errors, clock, ids."""
