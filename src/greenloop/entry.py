"""The console script. `greenloop map` takes a fast path that imports neither typer, rich nor pydantic (they
cost about 0.3 s of a warm map's 0.6 s); every other command, and `map --help`, goes through the typer app."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MAX_TOKENS = 16000


def map_main(argv: list[str]) -> int:
    """`greenloop map [--repo DIR] [--tokens N] TASK...`, as the typer command defines it (cli.map_)."""
    from greenloop.repomap import repo_map
    from greenloop.sanitize import for_terminal

    parser = argparse.ArgumentParser(prog="greenloop map", add_help=False)
    parser.add_argument("task", nargs="*")
    parser.add_argument("--repo", type=Path, default=Path("."))
    parser.add_argument("--tokens", type=int, default=1024)
    args, unknown = parser.parse_known_args(argv)
    problem = (f"no such option: {unknown[0]}; see greenloop map --help" if unknown else
               f"--tokens must be between 0 and {MAX_TOKENS}" if not 0 <= args.tokens <= MAX_TOKENS else
               f"{args.repo} is not a directory; pass --repo DIR" if not args.repo.is_dir() else None)
    if problem is not None:
        print(f"greenloop: error: {for_terminal(problem)}", file=sys.stderr)
        return 2
    print(for_terminal(repo_map(args.repo.resolve(), " ".join(args.task), args.tokens).text), end="")
    return 0


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["map"] and not {"--help", "-h"} & set(argv):
        sys.exit(map_main(argv[1:]))
    from greenloop.cli import app

    app(prog_name="greenloop")
