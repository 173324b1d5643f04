"""Test helpers: a private Redis, WebSocket clients, fake channels."""
