"""Entry point: the `profilemesh` group, global --debug, and the one-line error contract.

Exit codes (profilemesh/errors.py): 0 ok, 1 check failed, 2 usage or config error, 3 connection or
database error, 4 internal error (a bug: rerun with --debug), 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click

from profilemesh import __version__
from profilemesh.cli.options import CliState
from profilemesh.errors import EXIT_DATABASE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, ProfileMeshError
from profilemesh.hooks import NO_HOOKS, Hooks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and dbt's log.")
@click.version_option(__version__, prog_name="profilemesh")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ProfileMesh: profiling and drift detection with a versioned storage layer in your warehouse."""
    hooks = ctx.obj.hooks if isinstance(ctx.obj, CliState) else NO_HOOKS
    ctx.obj = CliState(debug=debug, hooks=hooks)
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")


def _register() -> None:
    from profilemesh.cli.alert import alert
    from profilemesh.cli.drift import drift
    from profilemesh.cli.migrate import migrate
    from profilemesh.cli.monitor import monitor
    from profilemesh.cli.profile import profile
    from profilemesh.cli.query import query
    from profilemesh.cli.quickstart import quickstart
    from profilemesh.cli.report import report
    from profilemesh.cli.retention import retention

    for command in (migrate, profile, monitor, drift, query, report, quickstart, retention, alert):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None, *, hooks: Hooks = NO_HOOKS) -> int:
    """Run the CLI; returns the exit code. `hooks` observe the command (a test launcher injects faults)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="profilemesh", standalone_mode=False, obj=CliState(hooks=hooks))
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("error: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except ProfileMeshError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # a bug (or a database error no layer translated): still one line unless --debug
        if debug:
            traceback.print_exc()
        from profilemesh.warehouses import is_interrupt

        if is_interrupt(exc):  # Ctrl-C, as a driver reports it (DuckDB: RuntimeError('Query interrupted'))
            click.echo("error: interrupted", err=True)
            return EXIT_INTERRUPTED
        if _is_database_error(exc):  # the driver's first line, without SQLAlchemy's statement echo
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"error: {first}", err=True)
            return EXIT_DATABASE
        message = " ".join(str(exc).split())
        click.echo(
            f"error: internal error, {type(exc).__name__}: {message} (a bug in ProfileMesh; rerun with --debug "
            "for the traceback)",
            err=True,
        )
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def _is_database_error(exc: BaseException) -> bool:
    """A SQLAlchemy or driver database error. Looked up in sys.modules: if a module is not loaded,
    the error cannot come from it (and `--help` never has to load SQLAlchemy)."""
    for module, name in (("sqlalchemy.exc", "DBAPIError"), ("psycopg2", "Error"), ("duckdb", "Error")):
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(exc, cls):
            return True
    return False


if __name__ == "__main__":
    sys.exit(main())
