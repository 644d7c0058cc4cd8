from django.contrib import admin
from django.urls import include, path

from chat.widget_views import WidgetCatalog

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("chat/widget-i18n/", WidgetCatalog.as_view(), name="widget-i18n"),
    path("", include("tours.urls")),
]
