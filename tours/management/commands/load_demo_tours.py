from typing import Any

from django.core.management.base import BaseCommand

from tours.demo import DEMO_TOURS, load_demo_tours


class Command(BaseCommand):
    help = "Load ~20 published Tatarstan demo tours and a few bookings (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        tours, bookings = load_demo_tours()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(DEMO_TOURS)} tours ({tours} new), {bookings} new bookings."
            )
        )
