"""`orderpilot import return-policy FILE`: the outlet -> return centre table from a sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from orderpilot.adapters import spreadsheets
from orderpilot.domain.return_routing import ReturnPolicyInvalid
from orderpilot.entrypoints.cli.hub import open_hub
from orderpilot.services.returns_routing import registers

out = Console()
err = Console(stderr=True)


def import_return_policy(
    file: Annotated[Path, typer.Argument(help="An .xlsx or .csv file: columns 网点代码/"
                                              "outlet_code and 退货中心/return_centre",
                                         exists=True, dir_okay=False, readable=True)],
    by: Annotated[str, typer.Option(help="Who is importing (kept with the version)")] = "cli",
) -> None:
    """Replace the return policy with the file as a new version: the whole file or, if any row
    is bad (an outlet twice, an unknown centre), nothing; every bad row is listed."""
    try:
        sheet = spreadsheets.read_sheet(file, registers.SHEET_LIMITS)
    except spreadsheets.UnreadableSheet as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from None
    hub = open_hub()
    try:
        version, rows = registers.import_policy(hub.uow, hub.clock, file.name, sheet.header,
                                                sheet.rows, by)
    except ReturnPolicyInvalid as error:
        for problem in error.problems:
            err.print(f"[red]{escape(problem.field)}:[/red] {escape(problem.message)} / "
                      f"{escape(problem.message_zh)}")
        raise typer.Exit(1) from None
    finally:
        hub.close()
    out.print(f"return policy version {version}: {rows} row(s) / 退货政策第 {version} 版，"
              f"{rows} 行")
