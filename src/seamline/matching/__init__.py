"""Record matching: a Fellegi-Sunter model (Splink) that decides which profiles from silo systems are one person,
in batch (merge, review or keep apart) and in real time (candidates for a record, with per-field reasons)."""
