"""Let the "Операторы" group read what it needs in the Django admin.

Operators read chat transcripts, ratings, support requests, tours, bookings
and the FAQ; they handle offline tickets and keep canned replies. They get
no change permission on chat messages: transcripts are not editable.
"""

from django.db import migrations

GROUP_NAME = "Операторы"

GRANTS = {
    "chat": {
        "chatsession": ["view"],
        "chatmessage": ["view"],
        "rating": ["view"],
    },
    "support": {
        "supportrequest": ["view"],
        "offlineticket": ["view", "change"],
        "cannedreply": ["view", "add", "change"],
        "operatorprofile": ["view"],
    },
    "tours": {
        "tour": ["view"],
        "booking": ["view"],
        "faqentry": ["view"],
    },
}


def _ensure_permissions(apps, app_label):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    for app_label, models in GRANTS.items():
        _ensure_permissions(apps, app_label)
        for model, actions in models.items():
            for action in actions:
                group.permissions.add(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model}"
                    )
                )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP_NAME).first()
    if group is None:
        return
    for app_label, models in GRANTS.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0003_requeue_tracking"),
        ("chat", "0002_initial"),
        ("tours", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
