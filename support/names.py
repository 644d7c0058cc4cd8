"""How operators are named to visitors: the rule lives in chat.names.

The visitor's conversation names the operator in its own frames and
history, so the rule sits in chat, below support; this module keeps the
support app's imports where they were.
"""

from __future__ import annotations

from chat.names import display_name, public_name

__all__ = ["display_name", "public_name"]
