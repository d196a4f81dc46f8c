"""deploy/ is documentation that runs: every `orderpilot` command in the Procfile, the systemd
units and deploy/README.md is parsed by the real command (unknown options and bad values
fail here), the settings in the units and the env file are real settings with valid values,
and the Prometheus alert rules are well formed and name metrics the hub exposes."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from typer.exceptions import TyperException
from typer.testing import CliRunner

from orderpilot.adapters.db import WriterTime
from orderpilot.adapters.metrics import Metrics
from orderpilot.adapters.views.operations import OperationsState
from orderpilot.config import Settings
from orderpilot.entrypoints.cli.main import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SYSTEMD = DEPLOY / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.target"))


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file: sections of (key, value), keys repeatable, as systemd reads them
    (https://www.freedesktop.org/software/systemd/man/latest/systemd.syntax.html)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"{path.name}: not a unit line: {line!r}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def orderpilot_args(command_line: str) -> list[str]:
    """The arguments after `orderpilot` in a command line (leading `env VAR=...` skipped)."""
    words = shlex.split(command_line)
    while words and (words[0] == "env" or re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0])):
        words.pop(0)
    assert words and Path(words[0]).name == "orderpilot", f"not an orderpilot command: {words}"
    return words[1:]


def check_command(args: list[str]) -> None:
    """The command exists, accepts these options with these values, and lists them in its
    --help (run as `orderpilot <command> --help` is)."""
    command: Any = typer.main.get_command(app)
    names: list[str] = []
    rest = list(args)
    while hasattr(command, "get_command"):  # a group of commands
        assert rest, f"orderpilot {' '.join(names)} needs a command"
        name, rest = rest[0], rest[1:]
        found = command.get_command(typer.Context(command), name)
        assert found is not None, f"no command `orderpilot {' '.join([*names, name])}`"
        names.append(name)
        command = found
    try:  # parses and checks the options as the command line would, without running it
        command.make_context(" ".join(names), list(rest))
    except TyperException as error:
        raise AssertionError(f"orderpilot {' '.join(args)}: {error}") from error
    shown = CliRunner().invoke(app, [*names, "--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    for option in (word for word in rest if word.startswith("--")):
        assert option.split("=")[0] in shown.output, f"{option} not in `{' '.join(names)} --help`"


def check_settings(assignments: dict[str, str], where: str) -> Settings:
    fields = {f"ORDERPILOT_{name.upper()}": name for name in Settings.model_fields}
    unknown = sorted(set(assignments) - set(fields))
    assert not unknown, f"{where}: no such setting {unknown}"
    return Settings(_env_file=None, **{fields[k]: v for k, v in  # type: ignore[call-arg]
                                       assignments.items()})


def env_file() -> dict[str, str]:
    lines = (SYSTEMD / "orderpilot.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and line[0] != "#")


def test_the_procfile_runs_serve_and_workers() -> None:
    processes = {}
    for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, _, command = line.partition(":")
            processes[kind.strip()] = command.strip()
    assert set(processes) == {"web", "worker"}
    for command in processes.values():
        check_command(orderpilot_args(command.replace("$PORT", "5000")))
    assert orderpilot_args(processes["web"])[0] == "serve"
    assert "ORDERPILOT_EMBEDDED_DISPATCHER=false" in processes["web"], \
        "with workers beside it, serve should not dispatch too"
    assert orderpilot_args(processes["worker"])[0] == "worker"


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_systemd_unit_runs_a_real_command(path: Path) -> None:
    unit = read_unit(path)
    assert values(unit, "Unit", "Description"), f"{path.name} has no Description"
    for needed in values(unit, "Unit", "Requires") + values(unit, "Unit", "Wants") + \
            values(unit, "Unit", "After"):
        for name in needed.split():
            if name.startswith("orderpilot"):
                template = re.sub(r"@[^.]+\.", "@.", name)
                assert (SYSTEMD / template).exists(), f"{path.name} names missing {name}"
    if path.suffix == ".target":
        return
    for line in values(unit, "Service", "ExecStart"):
        command = line.replace("%i", "1")
        assert "%" not in command, f"a specifier the test does not expand: {line}"
        check_command(orderpilot_args(command))
    assert values(unit, "Service", "EnvironmentFile") == ["/etc/orderpilot/orderpilot.env"]
    environment = dict(v.split("=", 1) for v in values(unit, "Service", "Environment"))
    check_settings({**env_file(), **environment}, path.name)


def test_the_env_file_holds_real_settings_and_stop_timeouts_outlast_the_drain() -> None:
    settings = check_settings(env_file(), "orderpilot.env")
    assert settings.database_url and settings.database_url.startswith("postgresql")
    assert not settings.embedded_dispatcher, "workers deliver; serve should not as well"
    serve = read_unit(SYSTEMD / "orderpilot-serve.service")
    stop_after = int(values(serve, "Service", "TimeoutStopSec")[0])
    assert stop_after > settings.shutdown_grace_seconds + 10, \
        "systemd would kill serve before requests in flight and the last batch finish"
    assert values(serve, "Service", "KillSignal") == ["SIGTERM"]


def test_the_commands_the_readme_and_the_alerts_name_are_real() -> None:
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    alerts = (DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8")
    commands = re.findall(r"`(orderpilot [^`]+)`", text + alerts)
    assert len(set(commands)) >= 4
    for command in commands:
        check_command(orderpilot_args(command))
    for unit in re.findall(r"orderpilot-[a-z]+(?:@\w*)?(?:\.service|\.target)?\b", text):
        name = re.sub(r"@\w*", "@", unit)
        assert any(p.name.startswith(name) for p in UNITS), f"the README names {unit}"


def exposed_metrics() -> dict[str, dict[str, set[str]]]:
    """Sample name -> label -> values, from a hub's registry with every metric the alerts use
    given a value (the database-read gauges as /metrics sets them)."""
    metrics = Metrics()
    metrics.record_state(OperationsState({"outbox": 1.0, "timers": 0.0},
                                         {"event": 0, "timer": 0},
                                         {"channel": 0, "inventory": 0}))
    metrics.backlog.labels("outbox_pending").set(0)
    metrics.dispatch_lag.observe(0.2)
    metrics.rule_action_lag.labels("sms").observe(1.0)
    metrics.http_latency.labels("GET", "/readyz", "503").observe(0.01)
    metrics.watch_sqlite_writer(WriterTime(held_s=1.0, waited_s=0.5, transactions=3))
    found: dict[str, dict[str, set[str]]] = {"up": {"job": set(), "instance": set()}}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for sample in family.samples:
            labels = found.setdefault(sample.name, {})
            for key, value in sample.labels.items():
                labels.setdefault(key, set()).add(value)
    return found


def test_the_alert_rules_are_well_formed_and_name_real_metrics() -> None:
    rules_file = DEPLOY / "prometheus" / "alerts.yml"
    document = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    exposed = exposed_metrics()
    names = []
    for group in document["groups"]:
        assert set(group) == {"name", "rules"} and group["rules"]
        for rule in group["rules"]:
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"Orderpilot[A-Za-z]+", rule["alert"])
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            names.append(rule["alert"])
            for metric, matchers in re.findall(r"\b(orderpilot_\w+|up)(?:\{([^}]*)\})?",
                                               rule["expr"]):
                assert metric in exposed, f"{rule['alert']}: the hub exposes no {metric}"
                for label, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"',
                                                   matchers):
                    assert label in exposed[metric], f"{rule['alert']}: {metric} has no {label}"
                    if label in ("queue", "kind") and op == "=":
                        assert value in exposed[metric][label], \
                            f"{rule['alert']}: {metric} never has {label}={value!r}"
    assert len(names) == len(set(names))
    for needed in ("orderpilot_backlog_oldest_age_seconds", "orderpilot_dead_letters",
                   "orderpilot_dispatch_lag_seconds_bucket", "orderpilot_pulls_failing"):
        assert needed in rules_file.read_text(encoding="utf-8"), f"no alert on {needed}"
    promtool = shutil.which("promtool")
    if promtool:  # not installed on the CI machine; the structure checks above stand in
        done = subprocess.run([promtool, "check", "rules", str(rules_file)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_scrape_config_loads_the_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text("utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["orderpilot-serve"]["authorization"]["type"] == "Bearer"
    worker = read_unit(SYSTEMD / "orderpilot-worker@.service")
    port = re.search(r"--metrics-port (\d+)%i", values(worker, "Service", "ExecStart")[0])
    assert port is not None
    assert f"127.0.0.1:{port.group(1)}1" in jobs["orderpilot-worker"]["static_configs"][0][
        "targets"], "prometheus.yml does not scrape worker 1 where its unit serves metrics"
