from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path

from analytics.views import prometheus_metrics
from chat.widget_views import WidgetCatalog
from tatartours.throttle import login_username, throttle_posts

# Login attempts per IP and per username, shared by the site's and the admin's forms.
throttle_logins = throttle_posts(
    "login", ("ip", "LOGIN_RATE_LIMIT"), (login_username, "LOGIN_RATE_LIMIT_PER_USERNAME")
)

urlpatterns = [
    path("admin/login/", throttle_logins(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", throttle_logins(LoginView.as_view()), name="login"),
    # Only the auth views the site uses: Django's auth.urls would also serve password
    # reset (unthrottled, mailing with no mail set up) and password change (the admin has it).
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    # Before the support app's "support/" routes: the analytics app owns this subtree.
    path("support/analytics/", include("analytics.urls")),
    path("metrics", prometheus_metrics, name="metrics"),
    path("chat/widget-i18n/", WidgetCatalog.as_view(), name="widget-i18n"),
    path("support/", include("support.urls")),
    path("", include("tours.urls")),
]
