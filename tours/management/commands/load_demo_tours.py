from typing import Any

from django.core.management.base import BaseCommand

from tours.demo import DEMO_TOURS, load_demo_tours
from tours.demo_faq import DEMO_FAQ, load_demo_faq


class Command(BaseCommand):
    help = "Load ~20 published Tatarstan demo tours, a few bookings and the FAQ (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        tours, bookings = load_demo_tours()
        faq = load_demo_faq()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(DEMO_TOURS)} tours ({tours} new), {bookings} new bookings, "
                f"{len(DEMO_FAQ)} FAQ entries ({faq} new)."
            )
        )
