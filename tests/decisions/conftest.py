"""The decisions tests send real email (the communications tests' loopback SMTP server and settings) and use the
console (its signed-in clients)."""

from tests.communications.conftest import mail_settings, smtp
from tests.console.conftest import console, sign_in

__all__ = ["console", "mail_settings", "sign_in", "smtp"]
