from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("offline-ticket/", views.offline_ticket, name="offline-ticket"),
    path(
        "bookings/<str:reference>/<str:action>/",
        views.booking_action,
        name="booking-action",
    ),
]
