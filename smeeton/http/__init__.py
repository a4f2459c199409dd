"""The ASGI application: pages, the WebSocket endpoint, metrics, static client."""
