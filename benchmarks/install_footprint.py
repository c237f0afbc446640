"""What each install brings: packages, size on disk and install time per extra, side by side with the
base install (DuckDB only), and the README's first command (install + quickstart) from an empty cache.

    python benchmarks/install_footprint.py [--cold] [--extras "" postgres snowflake sqlite all] [--first-run]

Each install goes into a new virtualenv with uv (`uv pip install '<repo>[extra]'`). With --cold every
install starts from an empty uv cache (UV_CACHE_DIR in a new temporary directory: everything is
downloaded); without it, from the machine's cache. --first-run times the README's first command on the
base install from an empty cache: the install, then `profilemesh quickstart`; and reports what was
downloaded (the cache's size afterwards). This script needs the network (--cold, --first-run) and is not
part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import markdown_table

REPO = Path(__file__).resolve().parent.parent
EXTRAS = ("", "postgres", "snowflake", "sqlite", "all")


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _uv(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uv", *args], env=env, check=True, capture_output=True, text=True)


def install(extra: str, work: Path, *, cold: bool) -> dict[str, object]:
    """A new virtualenv with `<repo>[extra]`: seconds, packages, site-packages size, downloaded bytes."""
    env = dict(os.environ)
    cache = Path(tempfile.mkdtemp(prefix="pm-uv-cache-", dir=work)) if cold else None
    if cache is not None:
        env["UV_CACHE_DIR"] = str(cache)
    venv = work / f"venv-{extra or 'base'}"
    _uv("venv", "-q", "--python", sys.executable, str(venv), env=env)
    python = str(venv / "bin" / "python")
    started = time.monotonic()
    _uv("pip", "install", "-q", "--python", python, f"{REPO}[{extra}]" if extra else str(REPO), env=env)
    seconds = time.monotonic() - started
    listed = json.loads(_uv("pip", "list", "--format", "json", "--python", python, env=env).stdout)
    site = next((venv / "lib").glob("python3*/site-packages"))
    return {
        "extra": extra or "(base: duckdb)",
        "seconds": seconds,
        "packages": len(listed),
        "size_mb": _du(site) / 1e6,
        "downloaded_mb": _du(cache) / 1e6 if cache is not None else None,
        "venv": venv,
        "names": sorted(p["name"].lower() for p in listed),
    }


def first_run(work: Path) -> dict[str, float]:
    """The README's first command, base install from an empty cache: install, then the quickstart."""
    first = work / "first-run"
    first.mkdir()
    row = install("", first, cold=True)
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
    parser.add_argument("--cold", action="store_true", help="every install from an empty uv cache (downloads all)")
    parser.add_argument("--extras", nargs="*", default=list(EXTRAS))
    parser.add_argument("--first-run", action="store_true", help="time install + quickstart from an empty cache")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pm-install-"))
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f} (2-core machine: above 2 means other work competes)")
        rows = [install(extra, work, cold=args.cold) for extra in args.extras]
        base = next((r for r in rows if r["extra"] == "(base: duckdb)"), rows[0])
        table = [
            [
                r["extra"],
                r["packages"],
                f"{r['size_mb']:.0f}",
                f"{float(r['size_mb']) / float(base['size_mb']):.2f}x",  # type: ignore[arg-type]
                f"{r['seconds']:.1f}",
                "" if r["downloaded_mb"] is None else f"{r['downloaded_mb']:.0f}",
            ]
            for r in rows
        ]
        cache = "empty uv cache" if args.cold else "warm uv cache"
        print(f"\nInstalls per extra ({cache}):\n")
        print(
            markdown_table(
                ["extra", "packages", "site-packages MB", "vs base", "install s", "uv cache after (MB)"], table
            )
        )
        base_names = set(base["names"])  # type: ignore[arg-type]
        for r in rows:
            added = sorted(set(r["names"]) - base_names)  # type: ignore[arg-type]
            if added:
                print(f"\n{r['extra']} adds: {', '.join(added)}")
        if args.first_run:
            figures = first_run(work)
            print("\nThe README's first command from an empty cache (base install, then `profilemesh quickstart`):\n")
            print(markdown_table(list(figures), [[f"{v:.1f}" for v in figures.values()]]))
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
