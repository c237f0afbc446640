"""Entry point: the `profilemesh` group, global --debug, and the one-line error contract.

Exit codes: 0 ok, 1 check failed, 2 usage or config error, 3 connection or database error.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click

from profilemesh import __version__
from profilemesh.errors import DatabaseError, ProfileMeshError

EXIT_INTERNAL = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and dbt's log.")
@click.version_option(__version__, prog_name="profilemesh")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ProfileMesh: profiling and drift detection with a versioned storage layer in your warehouse."""
    ctx.obj = {"debug": debug}
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")


def _register() -> None:
    from profilemesh.cli.drift import drift
    from profilemesh.cli.migrate import migrate
    from profilemesh.cli.profile import profile
    from profilemesh.cli.query import query
    from profilemesh.cli.quickstart import quickstart
    from profilemesh.cli.retention import retention

    cli.add_command(migrate)
    cli.add_command(profile)
    cli.add_command(drift)
    cli.add_command(query)
    cli.add_command(quickstart)
    cli.add_command(retention)


_register()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="profilemesh", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except ProfileMeshError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # a bug (or a database error no layer translated): still one line unless --debug
        if debug:
            traceback.print_exc()
        if _is_database_error(exc):  # the driver's first line, without SQLAlchemy's statement echo
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"error: {first}", err=True)
            return DatabaseError.exit_code
        message = " ".join(str(exc).split())
        click.echo(f"error: unexpected {type(exc).__name__}: {message} (rerun with --debug for details)", err=True)
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
