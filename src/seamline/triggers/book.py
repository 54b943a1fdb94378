"""The loaded rules of one folder, reloaded when its files change. A folder with a bad file is refused as a whole
and the rules that were running stay (a half-loaded rule set would fire some moments and silently drop others)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

from seamline.triggers.matching import RuleIndex
from seamline.triggers.rules import Condition, Rule, RuleError, check_unique, parse_rule

log = logging.getLogger(__name__)


def load_rules(
    directory: Path,
    *,
    templates: frozenset[str] | None = None,
    surveys: frozenset[str] | None = None,
    segments: Mapping[str, tuple[Condition, ...]] | None = None,
) -> list[Rule]:
    """Every rule file of a folder (`*.yaml`, `*.yml`), in name order; RuleError at the first bad one."""
    if not directory.is_dir():
        raise RuleError(str(directory), None, "rules_dir", "no such folder")
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    rules = [
        parse_rule(p.read_text(encoding="utf-8"), str(p), templates=templates, surveys=surveys, segments=segments)
        for p in files
    ]
    check_unique(rules)
    return rules


class RuleBook:
    """The rules in force, from a folder (or given), and the last problem that kept a change from loading."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        templates: frozenset[str] | None = None,
        surveys: frozenset[str] | None = None,
        segments: Mapping[str, tuple[Condition, ...]] | None = None,
        reload_seconds: float = 5.0,
        rules: list[Rule] | None = None,
    ) -> None:
        self.directory, self.templates, self.reload_seconds = directory, templates, reload_seconds
        self.surveys, self.segments = surveys, segments
        self.index = RuleIndex(rules or [])
        self.error: RuleError | None = None
        self._signature: tuple[tuple[str, int, int], ...] | None = ()
        self._checked = 0.0
        if directory is not None:
            self.reload()

    def _current_signature(self) -> tuple[tuple[str, int, int], ...] | None:
        assert self.directory is not None
        if not self.directory.is_dir():
            return None
        found = [*self.directory.glob("*.yaml"), *self.directory.glob("*.yml")]
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in found))

    def reload(self) -> bool:
        """Load the folder again; on a bad file keep the running rules, log and remember the problem. Whether
        the rules changed."""
        if self.directory is None:
            return False
        self._signature = self._current_signature()
        if not self.directory.is_dir():
            changed = len(self.index) > 0
            self.index, self.error = RuleIndex([]), None
            log.info("no trigger rules: %s is not a folder", self.directory)
            return changed
        try:
            rules = load_rules(self.directory, templates=self.templates, surveys=self.surveys, segments=self.segments)
        except (RuleError, OSError) as exc:
            self.error = exc if isinstance(exc, RuleError) else RuleError(str(self.directory), None, "file", str(exc))
            log.error("trigger rules not loaded, %d running rules kept: %s", len(self.index), self.error)
            return False
        self.error = None
        self.index = RuleIndex(rules)
        log.info("loaded %d trigger rules from %s", len(rules), self.directory)
        return True

    def refresh(self) -> None:
        """Reload when a file of the folder changed (checked at most every `reload_seconds`)."""
        if self.directory is None:
            return
        now = time.monotonic()
        if now - self._checked < self.reload_seconds:
            return
        self._checked = now
        if self._current_signature() != self._signature:
            self.reload()
