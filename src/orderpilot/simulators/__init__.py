"""Loopback simulators of the outside world: storefronts, ERP, WMS and carriers, for the demo
and end-to-end tests. They talk to the hub only through its public HTTP API."""
