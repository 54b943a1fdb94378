"""The words the console shows for a trait's name. Pure, and the one place to look a label up.

The profiles domain's canonical customer model carries each field's label ("Date of birth" for `birthday`); a name
it does not know is made readable: `national_id` reads "National id".
"""

from __future__ import annotations

from seamline.profiles.vocabulary import DEFAULT_VOCABULARY


def trait_label(name: str) -> str:
    """A trait's name as a person reads it."""
    return DEFAULT_VOCABULARY.label(name)
