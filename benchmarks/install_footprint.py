"""What each install brings: packages, size on disk and install time per extra, side by side with the
base install (DuckDB only), and the README's first command (install + quickstart) from an empty cache.

    python benchmarks/install_footprint.py [--cold] [--installer uv|pip] [--repeat N]
        [--extras "" postgres snowflake sqlite all] [--first-run]

Each install goes into a new virtualenv (`uv pip install '<repo>[extra]'`, or with --installer pip
`pip install '<repo>[extra]'`, the README's command), --repeat times (default 3); the time is the
median, and its ratio to the base install's. With --cold every install starts from an empty cache
(UV_CACHE_DIR or PIP_CACHE_DIR in a new temporary directory: everything is downloaded); without it,
from the machine's cache. --first-run times the README's first command on the base install from an
empty cache: the install, then `profilemesh quickstart`; and reports what was downloaded (the cache's
size afterwards). This script needs the network (--cold, --first-run, a cold machine cache) and is not
part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import markdown_table, ratio

REPO = Path(__file__).resolve().parent.parent
EXTRAS = ("", "postgres", "snowflake", "sqlite", "all")


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _uv(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uv", *args], env=env, check=True, capture_output=True, text=True)


def install(extra: str, work: Path, *, cold: bool, installer: str = "uv") -> dict[str, object]:
    """A new virtualenv with `<repo>[extra]`: seconds, packages, site-packages size, downloaded bytes."""
    env = dict(os.environ)
    cache = Path(tempfile.mkdtemp(prefix="pm-cache-", dir=work)) if cold else None
    if cache is not None:
        env["UV_CACHE_DIR" if installer == "uv" else "PIP_CACHE_DIR"] = str(cache)
    venv = Path(tempfile.mkdtemp(prefix=f"venv-{extra or 'base'}-", dir=work))
    seed = ["--seed"] if installer == "pip" else []  # pip in the virtualenv, as `python3 -m venv` puts it
    _uv("venv", "-q", *seed, "--python", sys.executable, str(venv), env=env)
    python = str(venv / "bin" / "python")
    requirement = f"{REPO}[{extra}]" if extra else str(REPO)
    command = (
        [sys.executable, "-m", "uv", "pip", "install", "-q", "--python", python, requirement]
        if installer == "uv"
        else [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement]
    )
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    seconds = time.monotonic() - started
    listed = json.loads(_uv("pip", "list", "--format", "json", "--python", python, env=env).stdout)
    site = next((venv / "lib").glob("python3*/site-packages"))
    seeded = {"pip", "setuptools", "wheel"}  # what --seed put there, not what the extra installs
    return {
        "extra": extra or "(base: duckdb)",
        "seconds": seconds,
        "packages": len([p for p in listed if p["name"].lower() not in seeded]),
        "size_mb": _du(site) / 1e6,
        "downloaded_mb": _du(cache) / 1e6 if cache is not None else None,
        "venv": venv,
        "cache": cache,
        "names": sorted(p["name"].lower() for p in listed if p["name"].lower() not in seeded),
    }


def installs(extra: str, work: Path, *, cold: bool, installer: str, repeat: int) -> dict[str, object]:
    """`install` `repeat` times, each into a new virtualenv: the median time, the runs, the last one's
    sizes (the same on every run)."""
    rows = [install(extra, work, cold=cold, installer=installer) for _ in range(repeat)]
    for row in rows:
        if row is not rows[-1]:
            shutil.rmtree(Path(str(row["venv"])), ignore_errors=True)
        if row["cache"] is not None:
            shutil.rmtree(Path(str(row["cache"])), ignore_errors=True)
    times = [float(r["seconds"]) for r in rows]  # type: ignore[arg-type]
    return {**rows[-1], "seconds": statistics.median(times), "runs": times}


def first_run(work: Path, installer: str) -> dict[str, float]:
    """The README's first command, base install from an empty cache: install, then the quickstart."""
    first = work / "first-run"
    first.mkdir()
    row = install("", first, cold=True, installer=installer)
    started = time.monotonic()
    subprocess.run(
        [str(Path(str(row["venv"])) / "bin" / "profilemesh"), "quickstart", "--dir", str(first / "qs")],
        check=True,
        capture_output=True,
    )
    quickstart = time.monotonic() - started
    return {
        "install_s": float(row["seconds"]),  # type: ignore[arg-type]
        "quickstart_s": quickstart,
        "total_s": float(row["seconds"]) + quickstart,  # type: ignore[arg-type]
        "downloaded_mb": float(row["downloaded_mb"] or 0.0),  # type: ignore[arg-type]
        "size_mb": float(row["size_mb"]),  # type: ignore[arg-type]
        "packages": float(row["packages"]),  # type: ignore[arg-type]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="every install from an empty cache (downloads all)")
    parser.add_argument("--installer", choices=("uv", "pip"), default="uv")
    parser.add_argument("--repeat", type=int, default=3, help="installs per extra; the median time is reported")
    parser.add_argument("--extras", nargs="*", default=list(EXTRAS))
    parser.add_argument("--first-run", action="store_true", help="time install + quickstart from an empty cache")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pm-install-"))
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f} (2-core machine: above 2 means other work competes)")
        rows = [
            installs(extra, work, cold=args.cold, installer=args.installer, repeat=args.repeat) for extra in args.extras
        ]
        base = next((r for r in rows if r["extra"] == "(base: duckdb)"), rows[0])
        table = [
            [
                r["extra"],
                r["packages"],
                round(float(r["size_mb"])),  # type: ignore[arg-type]
                ratio(float(r["size_mb"]), float(base["size_mb"])),  # type: ignore[arg-type]
                float(r["seconds"]),  # type: ignore[arg-type]
                ratio(float(r["seconds"]), float(base["seconds"])),  # type: ignore[arg-type]
                " / ".join(f"{t:.1f}" for t in r["runs"]),  # type: ignore[attr-defined]
                "" if r["downloaded_mb"] is None else round(float(r["downloaded_mb"])),  # type: ignore[arg-type]
            ]
            for r in rows
        ]
        cache = "empty cache" if args.cold else "warm cache"
        print(f"\nInstalls per extra ({args.installer}, {cache}, median of {args.repeat}):\n")
        print(
            markdown_table(
                [
                    "extra",
                    "packages",
                    "site-packages MB",
                    "size vs base",
                    "install s",
                    "time vs base",
                    "runs s",
                    "cache after (MB)",
                ],
                table,
                floatfmt=".1f",
            )
        )
        base_names = set(base["names"])  # type: ignore[arg-type]
        for r in rows:
            added = sorted(set(r["names"]) - base_names)  # type: ignore[arg-type]
            if added:
                print(f"\n{r['extra']} adds: {', '.join(added)}")
        if args.first_run:
            figures = first_run(work, args.installer)
            print(f"\nThe README's first command, empty cache ({args.installer} install, then the quickstart):\n")
            print(markdown_table(list(figures), [list(figures.values())], floatfmt=".1f"))
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
