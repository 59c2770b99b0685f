"""`movie-analytics build | serve | up`: the README's main command.

``serve`` runs three servers, each in a process group of its own so that a stop
reaches their children too (Dagster's code servers and run workers): SIGTERM or
Ctrl-C stops every group, waits up to ``STOP_SECONDS``, then kills what is left.
Their output goes to log files under the data folder; the terminal keeps the URLs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from movie_assets.settings import DATA_DIR, PROJECT_ROOT, current, dagster_home, warehouse_path

DAGSTER_PORT = 3000
DASH_PORT = 8050
STOP_SECONDS = 10
READY_SECONDS = 120
EXPOSE_ENV = "MOVIE_ALLOW_REMOTE"


def _prepare_environment() -> None:
    """Project-local DAGSTER_HOME (with its dagster.yaml) and warehouse, unless set."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("MOVIE_WAREHOUSE", str(warehouse_path()))
    config = home / "dagster.yaml"
    # The project-local home always follows the repo's dagster.yaml; a home of the user's own
    # only gets it when it has none.
    if not config.exists() or home == DATA_DIR / "dagster_home":
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", config)


_interrupted: list[int] = []


def _interrupt(signum, _frame):
    _interrupted.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stopped() -> int:
    signum = _interrupted[-1] if _interrupted else signal.SIGINT
    print(f"stopped by {signal.Signals(signum).name}", file=sys.stderr)
    return 128 + signum


def build(args: argparse.Namespace) -> int:
    _prepare_environment()
    import dagster as dg

    from movie_assets.build import build as run_build
    from movie_assets.definitions import defs

    # A service manager's SIGTERM ends the build the way Ctrl-C does: Dagster marks the
    # run failed instead of leaving it STARTED.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        report = run_build(defs, instance, args.start, args.end)
    print()
    for label, ok, seconds in report.runs:
        print(f"{'ok  ' if ok else 'FAIL'} {label} ({seconds:.1f} s)")
        if not ok:
            for run_label, step, cause in report.causes:
                if run_label == label:
                    print(f"     {step}: {cause}")
            print(f"     traceback: Dagster UI, /runs/{report.run_ids[label]}")
    for check in report.failed_checks:
        print(f"FAIL check {check}: {report.check_causes[check]}")
    print(
        f"build {'succeeded' if report.ok else 'failed'} in {time.perf_counter() - started:.1f} s"
    )
    # Dagster turns SIGINT or SIGTERM into the run's failure; one that lands inside a DuckDB
    # query fails the step as "Query interrupted" instead, so the handler's record decides too.
    if report.interrupted or _interrupted:
        print("stopped: the build was interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    return 0 if report.ok else 1


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exposure_refused(host: str, allow_remote: bool) -> str | None:
    """None if the host may be bound; else why not. A non-loopback bind needs the opt-in."""
    if is_loopback(host):
        return None
    if not allow_remote:
        return (
            f"refusing to serve on {host}: the Dagster UI has no authentication, and anyone "
            "who reaches it can launch and wipe runs. Keep 127.0.0.1 and put an authenticating "
            f"proxy in front (docs/operations.md), or opt in with --allow-remote ({EXPOSE_ENV}=1)."
        )
    print(
        f"WARNING: serving on {host} without authentication: anyone who can reach this "
        "machine can use the Dagster UI to launch and wipe runs (docs/operations.md).",
        file=sys.stderr,
    )
    return None


def _workspace(run_dir: Path) -> Path:
    """A workspace that points the UI and the daemon at the one code server ``serve`` runs.

    Loaded from ``python_module`` (the repo's workspace.yaml), each would spawn a code
    server of its own, and the daemon replaces its own every 60 s (the old one shuts down
    on its missed heartbeat, and the new one imports the definitions again, warnings and
    all). A long-lived server on a Unix socket is loaded once and reached by both.
    """
    workspace = run_dir / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - grpc_server:\n"
        f"      socket: {run_dir / 'code-server.sock'}\n"
        "      location_name: movie_assets\n"
    )
    return workspace


def _server_commands(args: argparse.Namespace, run_dir: Path) -> dict[str, list[str]]:
    bin_dir = os.path.dirname(sys.executable)
    workspace = str(_workspace(run_dir))
    host = args.host
    commands = {
        "code-server": [
            os.path.join(bin_dir, "dagster"),
            *("code-server", "start", "-m", "movie_assets.definitions"),
            *("-d", str(PROJECT_ROOT), "--location-name", "movie_assets"),
            *("--socket", str(run_dir / "code-server.sock")),
        ],
        "dagster-webserver": [
            os.path.join(bin_dir, "dagster-webserver"),
            *("-h", host, "-p", str(args.dagster_port), "-w", workspace),
        ],
        # The daemon runs the daily schedule, sensors, run monitoring and queued runs.
        "dagster-daemon": [os.path.join(bin_dir, "dagster-daemon"), "run", "-w", workspace],
    }
    if (PROJECT_ROOT / "dash_app" / "app.py").exists():
        commands["dash"] = dash_command(host, args.dash_port, run_dir)
    return commands


def dash_command(host: str, port: int, run_dir: Path) -> list[str]:
    """The Dash app under gunicorn, as serve runs it (the tests and benchmarks too)."""
    return [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        *("--bind", f"{host}:{port}", "--workers", "2", "--threads", "4"),
        # gunicorn's default control socket (~/.gunicorn/gunicorn.ctl) is shared by
        # every instance of the user: each app gets its own, in its data folder.
        *("--control-socket", str(run_dir / f"gunicorn-{port}.ctl")),
        "dash_app.app:server",
    ]


def _socket_ready(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _wait_ready(host: str, ports: list[int], processes: dict) -> bool:
    """True once every port accepts connections; False if a server exits first."""
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    deadline = time.monotonic() + READY_SECONDS
    waiting = set(ports)
    while waiting and time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            return False
        for port in list(waiting):
            try:
                socket.create_connection((connect_host, port), timeout=1).close()
                waiting.discard(port)
            except OSError:
                pass
        time.sleep(0.5)
    return not waiting


def stop_all(processes: dict[str, subprocess.Popen], grace: float = STOP_SECONDS) -> None:
    """SIGTERM to every server's process group, SIGKILL after ``grace`` s; all reaped."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in processes.values():
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        for p in processes.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # The groups' other members (code servers, run workers) are not our children:
        # only an empty group is done.
        if not any(_group_alive(p.pid) for p in processes.values()):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _may_bind(args: argparse.Namespace) -> bool:
    """Once per command: `up` asks before its build, not after."""
    if getattr(args, "bind_checked", False):
        return True
    refused = _exposure_refused(args.host, args.allow_remote)
    if refused:
        print(refused, file=sys.stderr)
        return False
    args.bind_checked = True
    return True


def _fail_runs_without_a_worker(instance) -> list[str]:
    """STARTED runs launched by a code server (the UI, a schedule, a sensor) none of whose
    processes is alive; their ids. The code server marks a run failed when its worker
    dies, but not when it dies too (the machine restarted, or every server was killed),
    and the default run launcher gives run monitoring no way to see it: such a run would
    hold the queue (max_concurrent_runs: 1) for good. Builds' runs are left to
    fail_orphaned_runs."""
    import dagster as dg

    from movie_assets.build import PID_TAG, alive

    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        if PID_TAG in run.tags:
            continue
        pids = {
            int(entry.dagster_event.engine_event_data.metadata["pid"].value)
            for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
            if "pid" in entry.dagster_event.engine_event_data.metadata
        }
        if pids and not any(alive(pid) for pid in pids):
            instance.report_run_failed(
                run, f"no process of this run is alive (pid {', '.join(map(str, sorted(pids)))})"
            )
            failed.append(run.run_id)
    return failed


def serve(args: argparse.Namespace) -> int:
    _prepare_environment()
    if not _may_bind(args):
        return 2
    import dagster as dg

    from movie_assets.build import fail_orphaned_runs

    with dg.DagsterInstance.get() as instance:
        for run_id in fail_orphaned_runs(instance):
            print(f"marked run {run_id} failed: the build that started it was killed")
        for run_id in _fail_runs_without_a_worker(instance):
            print(f"marked run {run_id} failed: its run worker and code server are gone")

    logs, run_dir = DATA_DIR / "logs", DATA_DIR / "run"
    logs.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    stopping: list[str] = []

    def on_signal(signum, _frame):
        stopping.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command in _server_commands(args, run_dir).items():
            with (logs / f"{name}.log").open("ab") as log:
                processes[name] = subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            if name == "code-server":
                deadline = time.monotonic() + READY_SECONDS
                while not _socket_ready(run_dir / "code-server.sock") and not stopping:
                    if processes[name].poll() is not None or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
        ports = [args.dagster_port] + ([args.dash_port] if "dash" in processes else [])
        if _wait_ready(args.host, ports, processes) and not stopping:
            print(f"\nDagster UI: http://{args.host}:{args.dagster_port}")
            if "dash" in processes:
                print(f"Dash app:   http://{args.host}:{args.dash_port}")
            print(f"Server logs in {logs}; Ctrl-C stops everything.", flush=True)
        while not stopping:
            ended = [name for name, p in processes.items() if p.poll() is not None]
            if ended:
                for name in ended:
                    print(
                        f"{name} exited ({processes[name].returncode}); the end of its log:\n"
                        f"{_tail(logs / f'{name}.log')}",
                        file=sys.stderr,
                    )
                return 1
            time.sleep(0.5)
        return 0
    finally:
        stop_all(processes)


def up(args: argparse.Namespace) -> int:
    if not _may_bind(args):
        return 2
    code = build(args)
    return code if code else serve(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="movie-analytics")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, help_text in [
        ("build", build, "materialize the whole graph headless"),
        ("serve", serve, "serve the Dagster UI and the Dash app on 127.0.0.1"),
        ("up", up, "build, then serve"),
    ]:
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        if name in ("build", "up"):
            p.add_argument("--start", help="first day of the ratings history (default: all)")
            p.add_argument("--end", help="snapshot day (default: the newest partition)")
        if name in ("serve", "up"):
            p.add_argument("--host", default=current().movie_host)
            p.add_argument(
                "--allow-remote",
                action="store_true",
                default=current().movie_allow_remote,
                help="allow a --host other than loopback (no authentication: see "
                "docs/operations.md)",
            )
            p.add_argument("--dagster-port", type=int, default=DAGSTER_PORT)
            p.add_argument("--dash-port", type=int, default=DASH_PORT)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _stopped()


if __name__ == "__main__":
    sys.exit(main())
