"""One reply -> the files it writes: parse, guard, apply, validate. Nothing invalid is kept, and nothing here
writes to disk: the run's ledger does (attempts.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from types import MappingProxyType

from greenloop.config import Settings
from greenloop.edits import AppliedFile, apply_all
from greenloop.errors import FormatError, GuardrailViolation
from greenloop.examples import module_name
from greenloop.frozen import TestGuard
from greenloop.guardrails import WritePolicy
from greenloop.ledger import TEST_CONFIG
from greenloop.omitted import keep_omitted
from greenloop.outline import top_level_names
from greenloop.repair import add_missing_imports, drop_self_tests, drop_shadowing_definitions
from greenloop.repair_js import repair_test
from greenloop.replies import is_test_path, parse_reply
from greenloop.runners.project import JS_SUFFIXES
from greenloop.tamper import gaming
from greenloop.trajectory import Trajectory
from greenloop.types import FileEdit
from greenloop.validate import validate_files
from greenloop.workspace import Workspace


@dataclass
class ReplyOutcome:
    written: dict[str, AppliedFile] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # go back to the model; nothing was written
    refused: list[str] = field(default_factory=list)  # refused files; the rest of the reply proceeded
    warnings: list[str] = field(default_factory=list)
    kind: str = "ok"  # ok | format_error | edit_error | invalid | refused | unchanged
    notes: list[str] = field(default_factory=list)  # for the next request if the tests fail (candidates.py)
    rewrote: list[str] = field(default_factory=list)  # frozen tests (path::name) the reply tried to change, refused


def prepare_reply(text: str, ws: Workspace, settings: Settings, already: set[str], traj: Trajectory,
                  step: str, target: str | None = None, guard: TestGuard | None = None,
                  task: str = "", created: frozenset[str] = frozenset(),
                  pending: Mapping[str, str] = MappingProxyType({}),
                  originals: Mapping[str, str | None] = MappingProxyType({}),
                  tests_to: str | None = None, sources: Iterable[str] = ()) -> ReplyOutcome:
    """Parse, guard, apply and validate a reply without writing: the valid files are in `written`, for the
    ledger to record and put on disk. `target`: the one implementation file of the task, if there is one (it
    receives an unnamed code block). `guard`: the tests the reply may not change. `task`: what the
    user asked for (a package.json script change needs the task to ask for it). `created`: files this
    run created (validated as new files: their size limit is the whole file's, and they may be rewritten).
    `pending`: files the same attempt wrote before this reply, not on disk yet (path -> content). `originals`:
    the base commit's content of the files the run changed (None: created by it); the others are as on disk.
    A Python file sent whole keeps what it left out of the user's file (omitted.py). `tests_to`: the run's
    own test file while it has none; a whole test file the reply sends at one of the project's own (read-only)
    test files is written there instead, and checked as that new file. `sources`: more modules the reply's
    tests may import from (the test-design call's: the task's target, which it does not write)."""
    out = ReplyOutcome()

    def read(path: str) -> str | None:
        return pending[path] if path in pending else ws.read_text(path)
    try:
        current = {p: content for p in already if (content := _readable(read, p))}
        parsed = parse_reply(text, current, default_path=target)
    except FormatError as exc:
        out.errors, out.kind = [str(exc)], "format_error"
        return out
    policy = WritePolicy(settings.allowed_extensions, settings.max_files, settings.protected_paths)
    edits = parsed.edits
    if tests_to is not None:
        edits = _redirect_tests(edits, tests_to, lambda p: _protected(ws, policy, guard, p), out)
        if edits != parsed.edits:
            traj.event(step, "redirect", to=tests_to, notes=out.notes)
    allowed = []
    for edit in edits:
        try:
            policy.check(ws, edit.path)
            ws.read_text(edit.path)  # a regular file under the read cap, or absent: else refused here
            allowed.append(edit)
        except GuardrailViolation as exc:
            out.refused.append(f"refused: {exc}")
    files, edit_errors = apply_all(allowed, read)
    for path, f in list(files.items()):
        original = originals[path] if path in originals else f.before
        if path.endswith(".py") and not f.is_test and f.whole and f.before is not None and original is not None:
            kept = keep_omitted(f.after, f.before, original, task)
            if kept.restored:
                files[path] = f = replace(f, after=kept.source)
                out.warnings.append(kept.warning(path))
                traj.event(step, "repair", path=path, added_imports=[], restored=list(kept.restored))
    providers: dict[str, frozenset[str]] = {}  # read and parsed only when there is a Python test to repair
    if any(f.is_test and p.endswith(".py") for p, f in files.items()):
        providers = _providers({p: f.after for p, f in files.items()},
                               [*already, *([target] if target else []), *sources], read)
    for path, f in list(files.items()):
        dropped: list[str] = []
        copies: list[str] = []
        if f.is_test and path.endswith(JS_SUFFIXES):
            fixed, added = repair_test(path, f.after, ws.root, set(files) | already)
        elif path.endswith(".py") and (f.is_test or f.after != f.before):
            if f.is_test:
                fixed, copies = drop_shadowing_definitions(f.after, providers)
            else:
                fixed, dropped = drop_self_tests(f.after, f.before)
            fixed, added = add_missing_imports(fixed, providers if f.is_test else {})
        else:
            continue
        if added or dropped or copies:
            files[path] = replace(f, after=fixed)
            traj.event(step, "repair", path=path, added_imports=added, dropped_self_tests=dropped,
                       dropped_copies=copies)
    for path, f in list(files.items()):
        why = guard.check(path, f.before, f.after) if guard is not None and f.after != f.before else None
        rewrote = guard.changed(path, f.after) if guard is not None and why else []  # frozen tests it changes
        try:
            policy.check_content(path, f.before, f.after, task)
        except GuardrailViolation as exc:
            why = why or str(exc)
        if why:
            out.refused.append(f"refused: {why}")
            out.rewrote.extend(rewrote)
            del files[path]
    try:
        policy.check_count(set(files) | already)
    except GuardrailViolation as exc:
        out.errors, out.kind = [str(exc)], "refused"
        return out
    diffs = {p: f.diff() for p, f in files.items() if f.after != f.before}
    traj.event(step, "edits", format=parsed.format, diffs=diffs, refused=out.refused, edit_errors=edit_errors)
    if edit_errors:
        out.errors, out.kind = edit_errors, "edit_error"
        return out
    if all(f.after == f.before for f in files.values()):
        out.errors = out.refused or ["The reply changes no file; the files already have that content. "
                                     "Change the code so that the failing test passes."]
        out.kind = "refused" if out.refused else "unchanged"
        return out
    for path, f in files.items():
        as_new = replace(f, before=None) if path in created else f
        findings = validate_files({path: as_new}, ws.root, max_lines=settings.max_file_lines,
                                  max_bytes=settings.max_file_bytes, siblings=[*files, *pending], task=task)
        out.warnings.extend(findings.warnings)
        errors = findings.errors + (gaming(path, f.after, f.is_test) if path.endswith(".py") else [])
        if errors:
            out.errors.extend(errors)
            continue
        out.written[path] = f
    traj.event(step, "validation", errors=out.errors, warnings=out.warnings, written=sorted(out.written))
    if out.errors:
        out.kind = "invalid"
    return out


def _providers(sent: Mapping[str, str], others: Iterable[str], read: Callable[[str], str | None]
               ) -> dict[str, frozenset[str]]:
    """The run's Python modules (the reply's, the files the run wrote, the task's target) by importable name,
    each with its top-level functions and classes: where a test's unimported name comes from."""
    out: dict[str, frozenset[str]] = {}
    for path in dict.fromkeys([*sent, *others]):
        if not path.endswith(".py") or is_test_path(path) or (name := module_name(path)) is None:
            continue
        source = sent[path] if path in sent else _readable(read, path)
        out[name] = frozenset(top_level_names(source or "") or ())
    return out


def _protected(ws: Workspace, policy: WritePolicy, guard: TestGuard | None, path: str) -> bool:
    """One of the project's own test files or protected paths. A path outside the worktree is neither: it is
    refused as it is, never moved."""
    try:
        rel = ws.relative(path)
    except GuardrailViolation:
        return False
    return policy.protects(rel) or (guard is not None and guard.ledger.is_protected(str(rel)))


def _redirect_tests(edits: tuple[FileEdit, ...], tests_to: str, protected: Callable[[str], bool],
                    out: ReplyOutcome) -> tuple[FileEdit, ...]:
    """The reply's first whole test file at a read-only test file of the project, moved to `tests_to` (the run's
    own test file, which the reply does not write itself). Small models write their tests into the project's
    test file they were shown; refusing it leaves the run without tests. The read-only file is never written."""
    leaf = PurePosixPath(tests_to).name
    if any(e.path == tests_to for e in edits) or leaf in TEST_CONFIG or protected(tests_to):
        return edits
    for i, edit in enumerate(edits):
        name = PurePosixPath(edit.path).name
        if (edit.kind == "whole" and edit.is_test and name not in TEST_CONFIG
                and PurePosixPath(edit.path).suffix == PurePosixPath(tests_to).suffix and protected(edit.path)):
            out.notes.append(f"{edit.path} is the project's own test file and read-only; the tests sent for it "
                             f"were written to {tests_to} instead.")
            return (*edits[:i], replace(edit, path=tests_to, is_test=True), *edits[i + 1:])
    return edits


def _readable(read: Callable[[str], str | None], path: str) -> str | None:
    try:
        return read(path)
    except GuardrailViolation:
        return None
