"""What each figure of the analytics page means, in the words staff read.

Served at /support/analytics/definitions/ (linked from the page); the
developers' version, with the SQL behind each figure, is docs/metrics.md.
Keep both in step when a definition changes.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# (section, [(term, definition)])
DEFINITIONS: list[tuple[Promise, list[tuple[Promise, Promise]]]] = [
    (
        _("Periods and figures"),
        [
            (
                _("Period"),
                _(
                    "Whole local days in the site's time zone, both the first and"
                    " the last day included. The default is the last 30 days, "
                    "today included; at most 366 days."
                ),
            ),
            (
                _("Dash"),
                _(
                    "A figure with nothing to measure (no answers, no ratings) is"
                    " shown as a dash, never as zero."
                ),
            ),
            (
                _("Median and p95"),
                _(
                    "Half of the values are below the median; 95% are below p95. "
                    "Both are interpolated between the two nearest values."
                ),
            ),
        ],
    ),
    (
        _("Conversations"),
        [
            (
                _("Conversation"),
                _(
                    "A chat with at least one visitor message or one request for "
                    "an operator in the period. A chat active on several days is "
                    "one conversation for the period and one on each of those "
                    "days."
                ),
            ),
            (
                _("Handed to operators"),
                _(
                    "Conversations with a request for an operator made in the "
                    "period, whatever became of it. Handoff rate: their share of "
                    "all conversations."
                ),
            ),
            (
                _("Resolved by the AI"),
                _(
                    "The AI answered in the period, nobody asked for an operator,"
                    " and the visitor did not rate the AI conversation 1 or 2. "
                    "Resolution rate: their share of all conversations."
                ),
            ),
            (
                _("No answer and no handoff"),
                _(
                    "Conversations in which no AI answer was stored in the period"
                    " and no operator was requested."
                ),
            ),
        ],
    ),
    (
        _("AI answers"),
        [
            (
                _("Total answer time"),
                _(
                    "From the start of the generation to the complete answer, "
                    "retries, fallback models and tool calls included."
                ),
            ),
            (
                _("Time to first token"),
                _(
                    "From the start of the generation to the first streamed text."
                    " Offline answers have none."
                ),
            ),
            (
                _("Fallback and offline answers"),
                _(
                    "Answered by a fallback model: the first model failed and "
                    "another one answered. Offline: no model answered and the "
                    "knowledge base did."
                ),
            ),
            (
                _("Tokens and cost"),
                _(
                    "Prompt and completion tokens and the cost in US dollars as "
                    "the provider (OpenRouter) reported them for each answer."
                ),
            ),
        ],
    ),
    (
        _("Operators"),
        [
            (
                _("Queue wait"),
                _(
                    "From the request for an operator to the moment an operator "
                    "took the chat; requests never taken are not in it (see "
                    "abandoned)."
                ),
            ),
            (
                _("Operator's first reply"),
                _("From the moment the operator took the chat to their first message in it."),
            ),
            (
                _("Abandoned requests"),
                _("The visitor left the queue, went away, or waited longer than the queue allows."),
            ),
            (
                _("Put back in the queue"),
                _(
                    "Requests returned to the queue at least once because their "
                    "operator went offline or left the visitor unanswered."
                ),
            ),
        ],
    ),
    (
        _("Satisfaction and topics"),
        [
            (
                _("CSAT"),
                _(
                    "The visitors' ratings from 1 to 5 given in the period: the "
                    "average, how many of each score, and the share rated 4 or 5;"
                    " for AI-only conversations and conversations with an "
                    "operator."
                ),
            ),
            (
                _("Popular tours"),
                _(
                    "Conversations about each tour: the visitor was on its page, "
                    "or an AI answer named it. Each conversation counts once per "
                    "tour."
                ),
            ),
            (
                _("Frequent words"),
                _(
                    "Words of visitor messages in all their forms (one stem); "
                    "stop words and chat pleasantries such as «спасибо» or «жду» "
                    "are left out. Messages: how many contain the word; "
                    "occurrences: how many times it occurs."
                ),
            ),
            (
                _("Refused messages"),
                _(
                    "Messages refused for sending too often (rate limit) or for "
                    "breaking the chat rules (moderation), counted as they "
                    "happen."
                ),
            ),
        ],
    ),
]
