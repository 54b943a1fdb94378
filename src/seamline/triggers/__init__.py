"""Triggers: rules as files that turn events, journey steps and stalls, trait and holding changes into actions."""
