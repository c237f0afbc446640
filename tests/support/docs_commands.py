"""Every `profilemesh ...` command shown in README.md and docs/**/*.md, and how to check it against
the real click tree. Used by tests/test_docs.py.

Where commands are found:
- shell blocks (bash, sh, shell, console, zsh), continuation lines joined, wherever the program
  stands on the line (`15 3 * * *   profilemesh retention apply ...` in a crontab counts);
- output blocks (text, untagged), line by line: `$ profilemesh ...` prompts, and `profilemesh ...`
  quoted with backticks in a message (a mention);
- any other block (Python, YAML ...), line by line: a command inside a string;
- inline code spans in the prose.
`profilemesh` counts as the program only when a real top-level command follows it (global options
aside), so `dbt run -s profilemesh` or a version string is not taken for one.

A command is *complete* when it is shown to be run (shell blocks, `$` prompts, code examples); a
*mention* (prose, output text: "run `profilemesh retention apply` with the same options") may leave
out required options, but nothing it does name may be unknown or invalid.

Doc lines may be synopses: `[--opt VALUE]` (optional), `a|b` (alternatives), `...` (repeatable),
and upper-case placeholders (`N`, `RUN_ID`, `FILE`). For parsing, brackets and `...` are dropped,
the first alternative is taken, and a placeholder becomes a sample value of the option's type, so
an unknown command, an unknown option or a value outside a choice fails the check.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click

REPO_ROOT = Path(__file__).resolve().parents[2]
SHELL_FENCES = {"bash", "sh", "shell", "console", "zsh"}
OUTPUT_FENCES = {"text", ""}
GENERATED = {"docs/cli-reference.md"}  # --help output, checked for staleness on its own
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$")
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# Shell separators; a pipe only with spaces around it (`table|json` in a synopsis is not a pipe).
_SEPARATORS = re.compile(r"\s*(?:&&|\|\||;)\s*|\s+\|\s+")
# In a non-shell block: from the program to the end of the string, code span or line.
_IN_TEXT = re.compile(r"(\$ )?((?:[^\s\"'`]*/)?profilemesh\s[^\"'`\n]*)")


@dataclass(frozen=True)
class DocCommand:
    file: str
    line: int
    text: str  # as written, from `profilemesh` to the end of the command (comment dropped)
    argv: tuple[str, ...]  # the arguments after `profilemesh`, as written (synopsis marks kept)
    complete: bool = True  # shown to be run; False for a mention in prose or output

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def is_synopsis(self) -> bool:
        return any("[" in a or "|" in a or "..." in a or PLACEHOLDER.match(a) for a in self.argv)


def doc_files() -> list[Path]:
    files = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
    return [f for f in files if f.relative_to(REPO_ROOT).as_posix() not in GENERATED]


@functools.cache
def top_level_commands() -> frozenset[str]:
    from profilemesh.cli.main import cli

    return frozenset(cli.commands)


def extract(path: Path) -> list[DocCommand]:
    """The commands shown in one file."""
    name = path.relative_to(REPO_ROOT).as_posix()
    commands: list[DocCommand] = []
    fence: str | None = None
    language = ""
    pending: list[tuple[int, str]] = []  # a shell line and its continuation lines

    def flush() -> None:
        if pending:
            number = pending[0][0]
            joined = " ".join(text.rstrip("\\").strip() for _, text in pending)
            commands.extend(_commands_in(name, number, joined, complete=True))
            pending.clear()

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line)
        if match and (fence is None or match.group(2).startswith(fence)):
            flush()
            if fence is None:
                fence, language = match.group(2)[:3], match.group(3).lower()
            else:
                fence = None
            continue
        if fence is None:
            for span in _INLINE.findall(line):
                commands.extend(_commands_in(name, number, span, complete=False))
        elif language in SHELL_FENCES:
            continuation = pending and (line.startswith((" ", "\t")) or pending[-1][1].rstrip().endswith("\\"))
            if not continuation:
                flush()
            if line.strip() and (continuation or not line.lstrip().startswith("#")):
                pending.append((number, line))
        elif language in OUTPUT_FENCES:
            # Output: a `$ profilemesh ...` prompt is a command; a quoted `profilemesh ...` in a
            # message a mention. Other text (an application name in an error) is no command.
            for prompt, text in _IN_TEXT.findall(line):
                if prompt:
                    commands.extend(_commands_in(name, number, text, complete=True))
            for span in _INLINE.findall(line):
                commands.extend(_commands_in(name, number, span, complete=False))
        else:  # a code example (Python, YAML ...): a command inside a string
            for _, text in _IN_TEXT.findall(line):
                commands.extend(_commands_in(name, number, text, complete=True))
    flush()
    return commands


def _commands_in(name: str, number: int, text: str, *, complete: bool) -> list[DocCommand]:
    text = _strip_comment(text)
    found = []
    for segment in _SEPARATORS.split(text):
        try:
            tokens = shlex.split(segment)
        except ValueError:
            continue
        for index, token in enumerate(tokens):
            if token == "profilemesh" or token.endswith("/profilemesh"):
                argv = tuple(tokens[index + 1 :])
                if _names_a_command(argv):
                    found.append(DocCommand(name, number, " ".join(("profilemesh", *argv)), argv, complete))
                break
    return found


def _names_a_command(argv: tuple[str, ...]) -> bool:
    """Global options, then a real top-level command: `dbt run -s profilemesh --vars ...` is no command."""
    words = [a for a in argv if not a.startswith("-")]
    return bool(words) and words[0] in top_level_commands()


def _strip_comment(text: str) -> str:
    """Drop a shell comment (a # outside quotes, at the start or after whitespace)."""
    quote = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return text[:index]
    return text


def all_commands() -> list[DocCommand]:
    return [command for path in doc_files() for command in extract(path)]


def synopsis_argv(argv: tuple[str, ...]) -> list[str]:
    """A synopsis as one concrete argv: brackets and `...` dropped, the first of `a|b` taken."""
    out = []
    for token in argv:
        token = token.replace("[", "").replace("]", "").replace("...", "")
        if not token:
            continue
        if "|" in token and not token.startswith("-"):
            token = token.split("|")[0]
        out.append(token)
    return out


def check(argv: list[str], *, partial_ok: bool = False) -> str | None:
    """None when argv parses against the real click tree (no callback runs), else the error.
    partial_ok: a missing required option is not an error (a mention, not a command to run)."""
    from profilemesh.cli.main import cli

    return _check(cli, "profilemesh", argv, None, partial_ok)


def _check(
    command: click.Command, name: str, argv: list[str], parent: click.Context | None, partial_ok: bool
) -> str | None:
    argv = _fill_placeholders(command, argv)
    if isinstance(command, click.Group) and parent is not None and not argv:
        return None  # a group alone, as prose mentions it ("`profilemesh query` reads ...")
    try:
        ctx = command.make_context(name, list(argv), parent=parent, resilient_parsing=False)
    except click.exceptions.Exit:
        return None  # --help, --version
    except click.MissingParameter as exc:
        return None if partial_ok else f"{exc.format_message()} (in `{name}`)"
    except click.ClickException as exc:
        return f"{exc.format_message()} (in `{name}`)"
    if isinstance(command, click.Group):
        rest = [*ctx.protected_args, *ctx.args]
        if not rest:
            return None
        try:
            sub_name, sub, sub_args = command.resolve_command(ctx, rest)
        except click.ClickException as exc:
            return f"{exc.format_message()} (in `{name}`)"
        assert sub is not None and sub_name is not None
        return _check(sub, sub_name, sub_args, ctx, partial_ok)
    return None


def _fill_placeholders(command: click.Command, argv: list[str]) -> list[str]:
    """Each upper-case placeholder that is an option's value becomes a sample of that option's type."""
    options = {opt: p for p in command.params if isinstance(p, click.Option) for opt in p.opts}
    out = list(argv)
    for index, token in enumerate(out):
        if index and PLACEHOLDER.match(token) and out[index - 1] in options:
            out[index] = _sample(options[out[index - 1]].type)
    return out


def _sample(kind: click.ParamType) -> str:
    if isinstance(kind, click.Choice):
        return str(kind.choices[0])
    if isinstance(kind, click.types.IntParamType | click.IntRange):
        return "1"
    if isinstance(kind, click.types.FloatParamType | click.FloatRange):
        return "1.5"
    if isinstance(kind, click.DateTime):
        return "2026-01-31"
    return "sample"


@dataclass(frozen=True)
class RunOperation:
    where: str
    macro: str
    args: str | None


def run_operations() -> list[RunOperation]:
    """Every `dbt run-operation MACRO [--args YAML]` in the docs' shell blocks."""
    found = []
    for path in doc_files():
        name = path.relative_to(REPO_ROOT).as_posix()
        language, fence = "", None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _FENCE.match(line)
            if match:
                fence, language = (None, "") if fence else (match.group(2)[:3], match.group(3).lower())
                continue
            if fence is None or language not in SHELL_FENCES:
                continue
            try:
                tokens = shlex.split(_strip_comment(line))
            except ValueError:
                continue
            if tokens[:2] == ["dbt", "run-operation"] and len(tokens) >= 3:
                args = tokens[tokens.index("--args") + 1] if "--args" in tokens else None
                found.append(RunOperation(f"{name}:{number}", tokens[2], args))
    return found


def macro_parameters(macro: str) -> set[str] | None:
    """The keyword parameters of a package macro, or None when the package has no such macro."""
    pattern = re.compile(r"\{%-?\s*macro\s+" + re.escape(macro) + r"\s*\(([^)]*)\)", re.DOTALL)
    for path in (REPO_ROOT / "dbt_profilemesh" / "macros").rglob("*.sql"):
        match = pattern.search(path.read_text(encoding="utf-8"))
        if match:
            return {part.split("=")[0].strip() for part in match.group(1).split(",") if part.strip()}
    return None
