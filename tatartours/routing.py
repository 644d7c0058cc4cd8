"""WebSocket routes, each behind its own origin check."""

from django.urls import path

from chat.consumers import VisitorConsumer
from support.consumers import OperatorConsumer
from tatartours.origins import site_only, site_or_widget_hosts

websocket_urlpatterns = [
    path("ws/chat/", site_or_widget_hosts(VisitorConsumer.as_asgi())),
    # Operators: only pages of the site itself (the dashboard), never the widget's hosts.
    path("ws/support/", site_only(OperatorConsumer.as_asgi())),
]
