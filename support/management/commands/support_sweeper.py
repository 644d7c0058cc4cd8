"""Run the support sweep every few seconds: `manage.py support_sweeper`.

One sweep abandons waiting requests whose visitor left (or that waited too
long), puts back in the queue the chats of operators who are gone or left a
visitor unanswered, and refreshes every waiting visitor's position and
estimate; it also expires booking holds nobody confirmed in time
(chat/booking.py). Run one (or more: sweeps are idempotent) next to the web
processes; operator sockets also sweep opportunistically, so a missing
sweeper slows these down but loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from chat.booking import expire_holds as expire_booking_holds
from chat.publish import run_action
from support.actions import sweep

logger = logging.getLogger("support.sweeper")


class Command(BaseCommand):
    help = "Sweep the support queue periodically (abandon, requeue, positions)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between sweeps (default: SUPPORT_SWEEP_SECONDS)",
        )
        parser.add_argument("--once", action="store_true", help="Sweep once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] or settings.SUPPORT_SWEEP_SECONDS
        asyncio.run(self._run(interval, once=options["once"]))

    async def _run(self, interval: float, *, once: bool) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        while True:
            try:
                result = await sweep()
                # Booking holds nobody confirmed in time release their places.
                expired = await run_action(expire_booking_holds)
            except Exception:
                # Postgres or Redis away for a moment: try again next round.
                logger.exception("support sweep failed")
            else:
                if expired:
                    self.stdout.write(f"expired {expired} booking holds")
                if result.abandoned or result.requeued:
                    self.stdout.write(
                        f"abandoned {len(result.abandoned)}, requeued {len(result.requeued)}"
                    )
            if once:
                return
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                continue
