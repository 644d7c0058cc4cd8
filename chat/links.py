"""Links in visitor text, counted the way the widget renders them.

The widget turns every match of its LINK_PATTERN into a clickable link
(chat/static/chat/widget.js, `renderText`): that line is the one definition,
read from the script here, so the server's link limits count exactly what a
reader will be able to click. Before, the server matched `https?://\\S+`, so
`https://a.example'https://b.example'…` was one link to it and seven in the
widget. Bare domains and `www.` mentions, which the widget leaves as text,
are counted too: pasted addresses are what link spam is made of.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

WIDGET_JS = Path(__file__).resolve().parent / "static" / "chat" / "widget.js"
_DECLARATION = re.compile(r"^\s*const LINK_PATTERN = /(?P<source>.+)/(?P<flags>[a-z]*);$", re.M)
# Written as text, not clickable in the widget, still an address.
_BARE = re.compile(
    r"\bwww\.\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:ru|рф|su|com|net|org|info|biz|io|me|xyz|top|site|online|"
    r"club|shop|link|click|tk|ml|ga|cf|gq|ua|kz|by)\b(?:/\S*)?",
    re.IGNORECASE,
)
# The widget trims these from a match's end, as a sentence's punctuation.
_TRAILING = re.compile(r"[.,!?;:]+$")


@cache
def rendered_link_pattern() -> re.Pattern[str]:
    """The widget's LINK_PATTERN as a Python pattern (the same syntax for its features).

    JavaScript's \\s also matches U+FEFF, Python's does not: added, or a BOM
    between two addresses would make two links for the widget and one here.
    """
    match = _DECLARATION.search(WIDGET_JS.read_text(encoding="utf-8"))
    if match is None:
        raise ImproperlyConfigured(f"{WIDGET_JS} no longer declares LINK_PATTERN on one line")
    flags = re.IGNORECASE if "i" in match["flags"] else 0
    return re.compile(match["source"].replace(r"\s", "\\s\ufeff"), flags)


def _rendered(candidate: str) -> bool:
    """Would the widget make a link of this match (it parses it as an http(s) URL)?"""
    url = _TRAILING.sub("", candidate)
    if url.endswith(")") and "(" not in url:
        url = url[:-1]
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False


def count_links(text: str) -> int:
    """Clickable links as the widget renders them, plus addresses written as text."""
    clickable = 0
    rest = []
    last = 0
    for match in rendered_link_pattern().finditer(text):
        if _rendered(match.group(0)):
            clickable += 1
            rest.append(text[last : match.start()])
            last = match.end()
    rest.append(text[last:])
    return clickable + len(_BARE.findall(" ".join(rest)))
