"""How operators are named to visitors."""

from __future__ import annotations

from typing import Any


def display_name(user: Any) -> str:
    """The operator's public name: profile display name, else first name, else username."""
    profile = getattr(user, "operator_profile", None)
    if profile is not None and profile.display_name:
        return str(profile.display_name)
    return str(user.first_name or user.get_username())
