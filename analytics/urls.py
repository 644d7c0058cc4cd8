from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.analytics_page, name="page"),
    path("export.csv", views.analytics_csv, name="csv"),
    path("definitions/", views.analytics_definitions, name="definitions"),
]
