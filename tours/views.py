"""The public tours site the chat widget lives on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tours.models import Tour


def home(request: HttpRequest) -> HttpResponse:
    featured = Tour.objects.upcoming()[:6]
    return render(request, "tours/home.html", {"tours": featured})


def tour_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tours/list.html", {"tours": Tour.objects.upcoming()})


def tour_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tour = get_object_or_404(Tour.objects.published(), slug=slug)
    return render(request, "tours/detail.html", {"tour": tour})
