"""WebSocket routes, each behind its own origin check."""

from django.urls import path

from chat.consumers import VisitorConsumer
from tatartours.origins import site_or_widget_hosts

websocket_urlpatterns = [
    path("ws/chat/", site_or_widget_hosts(VisitorConsumer.as_asgi())),
]
