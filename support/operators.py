"""Making a user a support operator: staff, in the "Операторы" group, with a profile."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from support.access import OPERATORS_GROUP_NAME
from support.models import OperatorProfile

# What the group may do; the same as migrations 0002 and 0004 grant (a
# migration keeps its own frozen copy). Operators read transcripts, never edit them.
GROUP_PERMISSIONS = {
    "support": [
        "operate_support",
        "view_supportrequest",
        "view_offlineticket",
        "change_offlineticket",
        "view_cannedreply",
        "add_cannedreply",
        "change_cannedreply",
        "view_operatorprofile",
    ],
    "chat": ["view_chatsession", "view_chatmessage", "view_rating"],
    "tours": ["view_tour", "view_booking", "view_faqentry"],
}


@dataclass(frozen=True)
class NewOperator:
    user: Any
    password: str | None  # set when it was generated here (to print once)
    created: bool


def operators_group() -> Group:
    """The "Операторы" group with its permissions, created if missing.

    The migrations create it; this also repairs a database that was
    flushed or restored without it.
    """
    group, _ = Group.objects.get_or_create(name=OPERATORS_GROUP_NAME)
    for app_label, codenames in GROUP_PERMISSIONS.items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    return group


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def make_operator(
    *,
    username: str,
    display_name: str,
    password: str | None = None,
    max_chats: int | None = None,
) -> NewOperator:
    """Create the operator, or make an existing user one.

    A new user without a password gets a generated one (returned, to print
    once). An existing user's password changes only when one is given.
    """
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    generated: str | None = None
    created = user is None
    if user is None:
        if password is None:
            password = generated = generate_password()
        user = User.objects.create_user(username=username, password=password)
    elif password is not None:
        user.set_password(password)
    user.is_staff = True
    user.is_active = True
    if display_name and not user.first_name:
        user.first_name = display_name[:150]
    user.save()
    user.groups.add(operators_group())
    OperatorProfile.objects.update_or_create(
        user=user,
        defaults={"display_name": display_name or user.get_username(), "max_chats": max_chats},
    )
    return NewOperator(user=user, password=generated, created=created)
