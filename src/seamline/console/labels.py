"""The words the console shows for a trait's name. Pure, and the one place to look a label up.

The profiles domain's canonical customer model is to carry each field's label; when it does, `trait_label` asks it
first. Until then a name is made readable: `first_name` and `firstName` both read "First name".
"""

from __future__ import annotations

import re


def trait_label(name: str) -> str:
    """A trait's name as a person reads it."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else name
