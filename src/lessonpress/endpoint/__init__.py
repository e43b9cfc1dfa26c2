"""`lessonpress endpoint`: the small web application for one-click unsubscribe and the subscribe form (see `app.py`)."""

from .app import EndpointApp
from .server import bound_port, make_server, serve
from .settings import EndpointSettings, Limits, endpoint_settings

__all__ = ["EndpointApp", "EndpointSettings", "Limits", "bound_port", "endpoint_settings", "make_server", "serve"]
