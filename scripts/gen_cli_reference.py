"""Write docs/cli-reference.md from the `--help` of every profilemesh command and subcommand.

    python scripts/gen_cli_reference.py           # regenerate the file
    python scripts/gen_cli_reference.py --check   # exit 1 when the file is stale

The click command tree is walked in-process, with a fixed width, so the output does not depend on
the terminal. tests/test_docs.py fails when the committed file differs from what this renders.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = REPO_ROOT / "docs" / "cli-reference.md"
WIDTH = 100
COMMAND = "python scripts/gen_cli_reference.py"

HEADER = f"""# CLI reference

Generated from `--help` of every command by `{COMMAND}`; do not edit by hand
(a test fails when this file is out of date). Exit codes everywhere: `0` ok, `1` a check failed,
`2` usage or configuration error, `3` connection or database error, `4` internal error (a bug in
ProfileMesh: rerun with `--debug` for the traceback), `130` interrupted (Ctrl-C).

Every command takes the same `--format` (`table`, `json`, `csv`, `ndjson`) and `-o/--output FILE`,
rendered by one renderer. Each command is also a function in
`profilemesh.api` that returns a typed result (docs/architecture.md).
"""


def walk(
    command: click.Command, parent: click.Context | None = None, name: str = "profilemesh"
) -> Iterator[tuple[str, click.Context]]:
    """(full command path, its context) for the command and every subcommand, depth first, sorted by name."""
    settings = {"terminal_width": WIDTH, "max_content_width": WIDTH, **command.context_settings}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    yield ctx.command_path, ctx
    if isinstance(command, click.Group):
        for sub_name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, ctx, sub_name)


def render() -> str:
    from profilemesh.cli.main import cli

    commands = list(walk(cli))
    parts = [HEADER, "## Commands\n"]
    for path, _ in commands:
        anchor = path.replace(" ", "-")
        parts.append(f"- [`{path}`](#{anchor})")
    parts.append("")
    for path, ctx in commands:
        parts.append(f"## {path}\n")
        parts.append("```text")
        parts.append(ctx.command.get_help(ctx).rstrip())
        parts.append("```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
        if current != text:
            print(f"{REFERENCE.relative_to(REPO_ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    REFERENCE.write_text(text, encoding="utf-8")
    print(f"wrote {REFERENCE.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
