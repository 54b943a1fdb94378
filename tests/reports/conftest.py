"""The console's fixtures (the app on http://localhost, signed-in users) for the reports area's tests."""

from tests.console.conftest import console, sign_in

__all__ = ["console", "sign_in"]
