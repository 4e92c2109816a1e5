"""The people's side: REST + WebSocket API and the monitoring web page."""
