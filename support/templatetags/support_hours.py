"""`{% operator_hours %}`: the operators' working hours, from the settings, for any page."""

from __future__ import annotations

from django import template

from tours.hours import working_hours_sentence

register = template.Library()


@register.simple_tag
def operator_hours() -> str:
    return working_hours_sentence()
