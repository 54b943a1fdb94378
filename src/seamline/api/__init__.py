"""HTTP edges that compose several domains (the profile API); single-domain edges live in their domain."""
