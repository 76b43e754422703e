"""The TypeScript type check: `tsc --noEmit` from the project's own node_modules, in the jail, after a reply is
validated and written and before its tests run. Its errors go back to the model as a failed attempt, like a
syntax error. A TypeScript project without `typescript` installed gets one warning and no check (greenloop
installs nothing).

With a tsconfig.json the project's configuration decides what is checked, and only errors that were not there
at the base commit count (compared by file, code and message: lines move). Without one, the run's own .ts
files are checked with strict, bundler-style flags, and only errors in them count.

tsconfig.json is repository content. tsc runs in the tests' jail (node_modules read-only, no network, the test
timeout), and the command line overrides everything in it that writes files: --noEmit, no incremental or
composite build info, no trace. tsc never loads `compilerOptions.plugins` (tsserver's language-service plugins).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from greenloop.errors import GuardrailViolation
from greenloop.jsrules import BUILTINS
from greenloop.protocols import Sandbox
from greenloop.runners.project import JS_SUFFIXES, TS_SUFFIXES, Project
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace

TSC_PATHS = ("typescript/bin/tsc", ".bin/tsc")  # under node_modules, on the host and in the jail alike
FORCED = ("--noEmit", "--incremental", "false", "--composite", "false", "--tsBuildInfoFile", "null",
          "--generateTrace", "null", "--pretty", "false")
LOOSE = ("--strict", "--skipLibCheck", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
         "--esModuleInterop", "--allowJs", "--resolveJsonModule", "--allowImportingTsExtensions", "--jsx", "preserve")
# Missing type definitions (@types/node, @types/jest, a package without types): the environment, not the code.
ENVIRONMENT = frozenset({"TS2580", "TS2582", "TS2591", "TS2593", "TS2867", "TS2868", "TS7016"})
_ERROR = re.compile(r"^(?:(?P<path>.+?)\((?P<line>\d+),(?P<col>\d+)\): )?error (?P<code>TS\d+): (?P<message>.*)$")
_MODULE = re.compile(r"^Cannot find module '([^']+)'")
MAX_SHOWN = 15
OUTPUT_KEPT = 20_000


@dataclass(frozen=True)
class Diagnostic:
    """One tsc error. `path` is "" for an error about the configuration rather than a file."""

    path: str
    line: int
    col: int
    code: str
    message: str  # with its indented continuation lines

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.code, self.message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}: " if self.path else ""
        text = f"{where}error {self.code}: {self.message}"
        return text if len(text) <= 400 else text[:397] + "..."

    @property
    def environmental(self) -> bool:
        if self.code in ENVIRONMENT:
            return True
        found = _MODULE.match(self.message) if self.code == "TS2307" else None
        name = found.group(1) if found else ""
        return name.startswith("node:") or name.split("/")[0] in BUILTINS


def parse(output: str, root: Path) -> list[Diagnostic]:
    """tsc's `--pretty false` output: `path(line,col): error TSnnnn: message`, continuation lines indented."""
    found: list[Diagnostic] = []
    for raw in output.splitlines():
        m = _ERROR.match(raw.strip())
        if m is not None:
            path = m["path"] or ""
            if path.startswith(str(root) + "/"):
                path = path[len(str(root)) + 1:]
            found.append(Diagnostic(path, int(m["line"] or 0), int(m["col"] or 0), m["code"], m["message"]))
        elif found and raw.startswith("  ") and found[-1].message.count("\n") < 3:
            last = found[-1]
            found[-1] = replace(last, message=f"{last.message}\n{raw.rstrip()}")
    return found


@dataclass(frozen=True)
class Checked:
    """One tsc run: what the model is told (`errors`) and what the run's warnings get (`notice`)."""

    errors: tuple[str, ...] = ()
    notice: str = ""
    keys: frozenset[tuple[str, str, str]] = frozenset()  # every error it found (a baseline's content)

    def failure(self) -> str:
        shown = "\n".join(self.errors[:MAX_SHOWN])
        more = f"\n... and {len(self.errors) - MAX_SHOWN} more" if len(self.errors) > MAX_SHOWN else ""
        return f"The TypeScript type check (tsc --noEmit) failed; the tests did not run:\n{shown}{more}"


@dataclass(frozen=True)
class TypeChecker:
    node: str
    tsc: str  # relative to the worktree: the bound node_modules
    tsconfig: bool  # the project's tsconfig.json (a regular file in the worktree) decides what is checked
    baseline: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)

    def command(self, files: Sequence[str]) -> list[str]:
        """The files as ./path: tsc has no `--`, and a name that starts with a dash is no option."""
        head = [self.node, self.tsc, *FORCED]
        return [*head, "--project", "tsconfig.json"] if self.tsconfig else [*head, *LOOSE, *(f"./{f}" for f in files)]

    def check(self, sandbox: Sandbox, root: Path, written: Iterable[str], timeout_s: float, traj: Trajectory,
              step: str) -> Checked:
        """tsc on the worktree as it is (base commit plus the run's files); recorded in the trajectory."""
        files = sorted(p for p in written if p.endswith(TS_SUFFIXES))
        if not self.tsconfig and not files:
            return Checked()
        argv = self.command(files)
        result = sandbox.run(argv, root, timeout_s)
        output = result.stdout + result.stderr
        checked = self.judge_output(result.exit_code, result.timed_out, output, root, set(files))
        traj.event(step, "type_check", command=argv, exit_code=result.exit_code, timed_out=result.timed_out,
                   seconds=round(result.duration_s, 3), output=output[-OUTPUT_KEPT:], errors=list(checked.errors),
                   notice=checked.notice)
        return checked

    def judge_output(self, exit_code: int, timed_out: bool, output: str, root: Path, files: set[str]) -> Checked:
        """What counts against the model: new errors (not in the baseline) in code files (the run's `files` when
        there is no tsconfig.json); the rest, if anything, is one notice for the run's warnings."""
        if timed_out:
            return Checked(notice="the TypeScript type check timed out (test_timeout); it was skipped")
        found = parse(output, root)
        if exit_code != 0 and not found:
            tail = " ".join(output.strip().splitlines()[-3:])[:300]
            return Checked(notice=f"the TypeScript type check could not run (exit {exit_code}): {tail}")
        keys = frozenset(d.key for d in found)
        config = [d for d in found if not d.path.endswith(JS_SUFFIXES + TS_SUFFIXES)
                  or d.path.startswith("node_modules/")]
        env = [d for d in found if d.environmental]
        counted = [d for d in found if d not in config and d not in env and d.key not in self.baseline
                   and (self.tsconfig or d.path in files)]
        notices = []
        if any(d.key not in self.baseline for d in config):
            notices.append("the TypeScript type check reports errors in the configuration or node_modules (not "
                           f"counted): {next(str(d) for d in config if d.key not in self.baseline)[:200]}")
        if any(d.key not in self.baseline for d in env):
            notices.append("the TypeScript type check needs type definitions that are not installed (not counted; "
                           f"install them, e.g. @types/node): {next(str(d) for d in env)[:200]}")
        return Checked(tuple(str(d) for d in counted), "; ".join(notices), keys)


def prepare(project: Project | None, node: str | None, sandbox: Sandbox, root: Path, timeout_s: float,
            traj: Trajectory) -> tuple[TypeChecker | None, str]:
    """The run's type checker (None: no check) and the warning to give once. Called on the base commit's
    worktree: with a tsconfig.json, its errors there are the baseline that later checks leave out."""
    if project is None or node is None or project.language != "typescript":
        return None, ""
    tsc = next((p for p in TSC_PATHS if project.modules is not None and (project.modules / p).is_file()), None)
    if tsc is None:
        return None, ("no TypeScript type check: `typescript` is not installed in node_modules (run `npm install "
                      "--save-dev typescript` to have each reply checked with tsc --noEmit before its tests)")
    try:
        tsconfig = Workspace(root).read_text("tsconfig.json") is not None
    except GuardrailViolation:
        tsconfig = False  # a link out of the project or a special file: the run's files are checked on their own
    checker = TypeChecker(node, f"node_modules/{tsc}", tsconfig)
    if not tsconfig:
        return checker, ""
    base = checker.check(sandbox, root, (), timeout_s, traj, "baseline")
    if "timed out" in base.notice or "could not run" in base.notice:
        return None, base.notice
    return replace(checker, baseline=base.keys), ""
