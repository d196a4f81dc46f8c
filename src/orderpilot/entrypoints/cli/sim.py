"""`orderpilot sim serve`: the loopback simulators of customs, SMS, robots, mail, helpdesk, CRM."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Loopback simulators of the external systems rules call.",
                  no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def serve(port: Annotated[int, typer.Option(help="HTTP port of all simulators")] = 9100,
          host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
          smtp_port: Annotated[int | None, typer.Option(help="SMTP port; default PORT+1")]
          = None,
          dedupe: Annotated[bool, typer.Option(
              help="Drop repeats of an idempotency key; --no-dedupe acts on every request "
                   "(as real Aliyun and Tencent SMS do) so real sends can be counted")]
          = True) -> None:
    """Serve every simulator until Ctrl-C; point the hub at it with ORDERPILOT_SIM_URL."""
    from orderpilot.simulators.external.server import SimServer

    sim = SimServer(host, port, smtp_port)
    for recorder in sim.state.recorders.values():
        recorder.dedupe = dedupe
    try:
        sim.start()
    except (OSError, RuntimeError, SystemExit) as error:
        console.print(f"[red]cannot start the simulators on {host}:{port}: {error}")
        raise typer.Exit(1) from error
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    names = ", ".join(sim.state.recorders)
    console.print(f"simulators ({names}) at {sim.url}, SMTP on {host}:{sim.smtp_port}")
    console.print(f"point the hub at them: ORDERPILOT_SIM_URL={sim.url}")
    console.print(f"recorded requests: {sim.url}/_sim ; de-duplication "
                  f"{'on' if dedupe else 'off'} ; Ctrl-C stops")
    stop.wait()
    sim.stop()
