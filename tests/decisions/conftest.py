"""The decisions tests send real email: the communications tests' loopback SMTP server and settings."""

from tests.communications.conftest import mail_settings, smtp

__all__ = ["mail_settings", "smtp"]
