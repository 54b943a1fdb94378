"""Where the CLI prints: rich consoles as wide as the terminal, and not cut at all when the output is a file or a
pipe (rich would otherwise wrap and cut tables and messages at 80 columns, which breaks what scripts read)."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console

# Wide enough that no row of a table or line of a message is ever wrapped; rich pads nothing to the console's
# width (a table is as wide as its cells), so this costs nothing.
UNBOUNDED = 1_000_000


def console(*, stderr: bool = False, highlight: bool = True) -> Console:
    """A console for one command's output: the terminal's width on a terminal; COLUMNS when the operator set it;
    otherwise unbounded."""
    # No emoji codes: `:smile:` in a customer's data is printed as typed (and rich's table of codes is not loaded).
    out = Console(stderr=stderr, highlight=highlight, emoji=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = UNBOUNDED
    return out


class Messages:
    """Where errors and notices go (stderr). Its console is made at each print, so it takes the width of where and
    when it prints: a console made at import would keep the width of a moment long gone."""

    def print(self, *objects: Any, **options: Any) -> None:
        console(stderr=True).print(*objects, **options)
