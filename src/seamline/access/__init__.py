"""Access: API keys for server-to-server callers, each with scopes, stored only as a hash."""
