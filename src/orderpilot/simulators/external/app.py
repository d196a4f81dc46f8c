"""The simulators' one FastAPI app, and the /_sim admin routes every simulator gets:

    GET    /_sim                      names and counts
    GET    /_sim/{name}/requests      what it received (secrets masked), one record per key
    DELETE /_sim/{name}/requests      forget requests and pending faults
    POST   /_sim/{name}/faults        {"status": 503, "times": 2, "delay_ms": 0, "body": null,
                                       "hold_ms": 0}  (hold: act, record, then wait to answer)
    POST   /_sim/{name}/dedupe        {"enabled": false}: every request acts (count real sends)
    GET    /_sim/{name}/look-ups      the look-ups by key it answered (QuerySendDetails...)
    DELETE /_sim/{name}               everything, including the simulated system's data
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orderpilot.integrations.registry import IntegrationRegistry, Simulator
from orderpilot.simulators.external.recorder import Recorder, SimState


class FaultSpec(BaseModel):
    status: int | None = Field(None, ge=100, le=599)
    times: int = Field(1, ge=1, le=1000)
    delay_ms: int = Field(0, ge=0, le=60_000)
    body: Any = None
    hold_ms: int = Field(0, ge=0, le=120_000)


class DedupeSpec(BaseModel):
    enabled: bool


def admin_router(simulators: Mapping[str, Simulator]) -> APIRouter:
    router = APIRouter(prefix="/_sim")

    def recorder(request: Request, name: str) -> Recorder | JSONResponse:
        state: SimState = request.app.state.sim
        if name not in state.recorders:
            return JSONResponse({"error": f"no simulator {name!r}",
                                 "known": sorted(state.recorders)}, 404)
        return state.recorders[name]

    @router.get("")
    def overview(request: Request) -> dict[str, Any]:
        state: SimState = request.app.state.sim
        return {"simulators": [
            {"name": name, "requests": len(r.records),
             "deliveries": sum(x["deliveries"] for x in r.snapshot()),
             "pending_faults": len(r.faults), "dedupe": r.dedupe,
             "look_ups": len(r.look_ups)} for name, r in state.recorders.items()]}

    @router.get("/{name}/requests", response_model=None)
    def requests(request: Request, name: str) -> dict[str, Any] | JSONResponse:
        found = recorder(request, name)
        if isinstance(found, JSONResponse):
            return found
        return {"name": name, "requests": found.snapshot()}

    @router.delete("/{name}/requests", response_model=None)
    def clear(request: Request, name: str) -> dict[str, Any] | JSONResponse:
        found = recorder(request, name)
        if isinstance(found, JSONResponse):
            return found
        found.clear()
        return {"name": name, "cleared": True}

    @router.post("/{name}/faults", response_model=None)
    def faults(request: Request, name: str, spec: FaultSpec) -> dict[str, Any] | JSONResponse:
        found = recorder(request, name)
        if isinstance(found, JSONResponse):
            return found
        found.add_faults(spec.status, spec.times, spec.delay_ms, spec.body, spec.hold_ms)
        return {"name": name, "pending_faults": len(found.faults)}

    @router.post("/{name}/dedupe", response_model=None)
    def dedupe(request: Request, name: str, spec: DedupeSpec) -> dict[str, Any] | JSONResponse:
        found = recorder(request, name)
        if isinstance(found, JSONResponse):
            return found
        with found.lock:
            found.dedupe = spec.enabled
        return {"name": name, "dedupe": spec.enabled}

    @router.get("/{name}/look-ups", response_model=None)
    def look_ups(request: Request, name: str) -> dict[str, Any] | JSONResponse:
        found = recorder(request, name)
        if isinstance(found, JSONResponse):
            return found
        with found.lock:
            return {"name": name, "look_ups": [dict(x) for x in found.look_ups]}

    @router.delete("/{name}", response_model=None)
    def reset(request: Request, name: str) -> dict[str, Any] | JSONResponse:
        found = recorder(request, name)
        if isinstance(found, JSONResponse):
            return found
        found.clear(everything=True)
        hook = simulators[name].reset if name in simulators else None
        if hook is not None:
            hook(found)
        return {"name": name, "reset": True}

    return router


def simulators_of(integrations: IntegrationRegistry) -> dict[str, Simulator]:
    """Each integration's simulator, by the name it is mounted at."""
    return {i.name: i.simulator for i in integrations if i.simulator is not None}


def create_app(state: SimState | None = None,
               integrations: IntegrationRegistry | None = None) -> FastAPI:
    simulators = simulators_of(integrations or IntegrationRegistry.discover())
    app = FastAPI(title="orderpilot simulators", docs_url="/_sim/docs", redoc_url=None,
                  openapi_url="/_sim/openapi.json")
    app.state.sim = state or SimState(simulators)
    for name, simulator in simulators.items():
        if simulator.admin is not None:  # before the generic routes: /_sim/customs/qualified
            app.include_router(simulator.admin, prefix=f"/_sim/{name}")
    app.include_router(admin_router(simulators))
    for name, simulator in simulators.items():
        app.include_router(simulator.router, prefix=f"/{name}")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
