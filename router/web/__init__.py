"""HTTP and WebSocket surface of kefu-router."""
