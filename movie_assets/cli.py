"""`movie-analytics build | serve | up`: the README's main command."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

from movie_assets.settings import DATA_DIR, PROJECT_ROOT, dagster_home, warehouse_path

DAGSTER_PORT = 3000
DASH_PORT = 8050


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


def build(args: argparse.Namespace) -> int:
    _prepare_environment()
    import dagster as dg

    from movie_assets.build import build as run_build
    from movie_assets.definitions import defs

    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        report = run_build(defs, instance, args.start, args.end)
    for label, ok, seconds in report.runs:
        print(f"{'ok  ' if ok else 'FAIL'} {label} ({seconds:.1f} s)")
    for check in report.failed_checks:
        print(f"FAIL check {check}")
    print(
        f"build {'succeeded' if report.ok else 'failed'} in {time.perf_counter() - started:.1f} s"
    )
    return 0 if report.ok else 1


def serve(args: argparse.Namespace) -> int:
    _prepare_environment()
    host = args.host
    bin_dir = os.path.dirname(sys.executable)
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    processes = [
        subprocess.Popen(
            [
                os.path.join(bin_dir, "dagster-webserver"),
                "-h",
                host,
                "-p",
                str(args.dagster_port),
                "-w",
                workspace,
            ],
            cwd=PROJECT_ROOT,
        ),
        # The daemon runs the daily schedule, sensors and queued runs launched from the UI.
        subprocess.Popen(
            [os.path.join(bin_dir, "dagster-daemon"), "run", "-w", workspace], cwd=PROJECT_ROOT
        ),
    ]
    dash_app = PROJECT_ROOT / "dash_app" / "app.py"
    if dash_app.exists():
        processes.append(
            subprocess.Popen(
                [
                    os.path.join(bin_dir, "gunicorn"),
                    "--bind",
                    f"{host}:{args.dash_port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "dash_app.app:server",
                ],
                cwd=PROJECT_ROOT,
            )
        )
        print(f"Dash app:  http://{host}:{args.dash_port}")
    print(f"Dagster UI: http://{host}:{args.dagster_port}")

    def stop(*_):
        for p in processes:
            p.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    stop()
    return max((p.wait() or 0) for p in processes)


def up(args: argparse.Namespace) -> int:
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
            p.add_argument("--host", default=os.environ.get("MOVIE_HOST", "127.0.0.1"))
            p.add_argument("--dagster-port", type=int, default=DAGSTER_PORT)
            p.add_argument("--dash-port", type=int, default=DASH_PORT)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
