from django.contrib import admin
from django.urls import include, path

from analytics.views import prometheus_metrics
from chat.widget_views import WidgetCatalog

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # Before the support app's "support/" routes: the analytics app owns this subtree.
    path("support/analytics/", include("analytics.urls")),
    path("metrics", prometheus_metrics, name="metrics"),
    path("chat/widget-i18n/", WidgetCatalog.as_view(), name="widget-i18n"),
    path("", include("tours.urls")),
]
