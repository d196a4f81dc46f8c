from orderpilot.entrypoints.cli.main import app

app()
