"""The customer's own preference page: signed, expiring links, a server-rendered form, and its changes."""
