"""The keepalive service: scheduler, metrics, alerts and the HTTP listener (above ``fleet/``)."""
