"""How operators are named to visitors (in chat frames, the history and the dashboard)."""

from __future__ import annotations

from typing import Any


def display_name(user: Any) -> str:
    """The operator's public name: profile display name, else first name, else username."""
    profile = getattr(user, "operator_profile", None)
    return public_name(
        profile.display_name if profile is not None else None,
        user.first_name,
        user.get_username(),
    )


def public_name(profile_name: str | None, first_name: str | None, username: str) -> str:
    """`display_name` from the three columns it reads."""
    return str(profile_name or first_name or username)
