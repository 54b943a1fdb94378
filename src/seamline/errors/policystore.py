"""The running harm, severity and escalation policy, which a changed file replaces only when it loads cleanly (kept
apart from the configuration, so reading the settings does not load the policy's reader)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from seamline.errors.policy import Policy, PolicyError, read_policy

log = logging.getLogger(__name__)


class PolicyStore:
    """The running policy. `reload` reads the file again: a file with mistakes is refused with them, and the
    policy that was running keeps running (the mistakes stay readable in `last_error` until a good file loads)."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._policy = read_policy(path)  # at start a bad file is fatal: PolicyError says where and why
        self._mtime = self._stamp()
        self.last_error: PolicyError | None = None

    @property
    def path(self) -> Path | None:
        return self._path

    def _stamp(self) -> float | None:
        try:
            return self._path.stat().st_mtime if self._path is not None else None
        except OSError:
            return None

    def current(self) -> Policy:
        """The running policy, reloaded first when its file changed since it was read."""
        if self._path is not None and self._stamp() != self._mtime:
            self.reload()
        return self._policy

    def reload(self) -> Policy:
        """Read the file again; returns the running policy (the old one when the file is wrong)."""
        with self._lock:
            self._mtime = self._stamp()
            try:
                self._policy = read_policy(self._path)
                self.last_error = None
            except PolicyError as exc:
                self.last_error = exc
                log.error("%s; the running policy is unchanged", exc)
            return self._policy
