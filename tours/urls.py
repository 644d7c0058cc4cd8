from django.urls import path

from tours import views

app_name = "tours"

urlpatterns = [
    path("", views.home, name="home"),
    path("tours/", views.tour_list, name="list"),
    path("tours/<slug:slug>/", views.tour_detail, name="detail"),
    path("bookings/", views.my_bookings, name="my-bookings"),
]
