"""The loopback simulators' harness: `orderpilot sim serve --port P`.

Each integration brings its own simulator (``Integration.simulator``: an APIRouter mounted at
/<name>, optionally admin routes mounted at /_sim/<name> and a reset hook called on
DELETE /_sim/<name>). Its routes answer through `recorder.handle(...)`, which records each
request once per idempotency key and applies injected faults; `app.create_app` mounts every
simulator of the integration registry, `server.SimServer` serves them (and the SMTP half).
"""
