"""A green program that crashes near the task's examples: one request to handle that input.

Before a green is committed, the committed program runs on the inputs probes.py varies from the task's examples (an
int one more or less, a list emptied, a string cut to its first or last character ...), in the jail. A call that
raises an error no program raises on purpose (IndexError, KeyError, ZeroDivisionError, RecursionError, ...;
not ValueError, which code raises to refuse an input) is shown to the model with the file, once: return what the
task says for that input, or raise ValueError if the task rules it out (a file sent back unchanged is the model's
word that nothing is to change). The new program replaces the green one only when it meets every task example,
no longer crashes on that input, and passes the whole verdict again (the project's tests, the run's frozen tests:
trial.py); else the green one is committed as it was, with a warning naming the input. One model call at most,
only for a task about one existing Python file whose examples give calls to probe.

Measured on the 82 HumanEval tasks of the one-run table (README): the committed programs of 5 greens crash so (4
right ones: 20 and 152 on inputs their docstrings rule out, 76 on a negative power, 126 on a real bug the hidden
tests miss; and the false green 134, `txt[-2]` of a one-character string). Run again, 20, 76 and 152 raise
ValueError there now; 126 and 134 could not be fixed and say so in a warning; no outcome changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from greenloop.attempt import prepare_reply
from greenloop.config import Settings
from greenloop.crosscheck import target_calls
from greenloop.edits import AppliedFile
from greenloop.errors import BudgetExceeded, ModelError
from greenloop.examples import module_name
from greenloop.models.meter import MeteredModel
from greenloop.probes import Call, run_probes
from greenloop.prompts import render
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.trial import try_files
from greenloop.types import Message
from greenloop.workspace import Workspace

# Errors code raises by accident (an index past the end, a missing key, a division by zero, unbounded recursion, a
# name or attribute that is not there), never to refuse an input the way ValueError or TypeError are raised.
ACCIDENTAL = frozenset({"IndexError", "KeyError", "ZeroDivisionError", "RecursionError", "UnboundLocalError",
                        "NameError", "AttributeError"})


@dataclass(frozen=True)
class CrashChecked:
    swapped: bool  # the committed program is the fix, not the green one
    warning: str | None  # for the run summary: a crash the fix did not settle


def applies(st: State, settings: Settings) -> bool:
    """On: a Python task about one file the run wrote (the green may have changed only another one), with calls."""
    return (settings.crash_check and st.runner is None and st.target is not None
            and st.target in st.ledger.written() and module_name(st.target) is not None and bool(target_calls(st)))


def _accidental(output: str) -> bool:
    return output.startswith("!") and output[1:] in ACCIDENTAL


def _crash(outputs: tuple[str, ...]) -> tuple[int, str] | None:
    """The index of the first call that raised by accident, and the error's name."""
    return next(((i, out[1:]) for i, out in enumerate(outputs) if _accidental(out)), None)


def _where(line: int, program: str) -> str:
    """` on line N: `source``: the program's line the error was raised through (0: not known, "")."""
    lines = program.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as Python counts lines (not \f, \x85)
    return f" on line {line}: `{lines[line - 1].strip()}`" if 0 < line <= len(lines) else ""


def crash_check(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
                traj: Trajectory, python: Path) -> CrashChecked:
    target = st.target or ""
    module = module_name(target) or ""
    calls = target_calls(st)
    green = st.ledger.current(target) or ""
    st.ledger.reset(ws)  # the probes import the run's other files as checked
    row = run_probes([green], target, module, st.examples, calls, sandbox, python, ws.root, settings.test_timeout)[0]
    st.ledger.reset(ws)  # nothing the probed program wrote stays for the reply to be read against
    # a program that did not load, or missed an example in the probe process, gives no basis for a crash
    found = _crash(row.outputs) if row is not None and row.meets_examples else None
    if row is None or found is None:
        traj.event("crash_check", "crash_check", calls=[c.show() for c in calls], crash=None, outcome="none")
        return CrashChecked(False, None)
    at, error = found
    call = calls[at]
    messages = [Message("system", render("implement_system", dependencies=st.context.dependencies, js=None)),
                Message("user", render("crash", task=st.task, path=target, content=green, call=call.show(),
                                       error=error, where=_where(row.lines[at], green)))]
    try:
        text = model.complete(messages, "crash_check", None).text
    except (BudgetExceeded, ModelError) as exc:
        return _done(traj, calls, call, error, "no reply", green, None, False, f"{call.show()} raises {error} "
                     f"and no fix could be asked ({exc}): check that input")
    out = prepare_reply(text, ws, settings, set(st.ledger.written()), traj, "crash_check", target, st.guard,
                        st.task, originals=st.ledger.originals())
    fixed = out.written.get(target)
    if out.kind == "unchanged" or (fixed is not None and fixed.after == green):
        # the file sent back as it was: the task rules the input out (the model's word)
        return _done(traj, calls, call, error, "unchanged", green, None, False, None)
    if out.errors or fixed is None:
        return _done(traj, calls, call, error, "invalid", green, None, False,
                     f"{call.show()} raises {error}; the fix asked for was no valid program: check that input")
    probed = run_probes([fixed.after], target, module, st.examples, calls, sandbox, python, ws.root,
                        settings.test_timeout)[0]
    st.ledger.reset(ws)  # nothing the probed program wrote stays
    new_crash = probed is not None and any((_accidental(b) and not _accidental(a)) or (i == at and _accidental(b))
                                           for i, (a, b) in enumerate(zip(row.outputs, probed.outputs, strict=True)))
    if probed is None or not probed.meets_examples or new_crash:
        return _done(traj, calls, call, error, "still wrong", green, fixed.after, False,
                     f"{call.show()} raises {error}; the fix asked for missed the task's examples or raised by "
                     "accident there or on another input: check that input")
    entry = st.ledger.entries[target]
    if not try_files(st, sandbox, ws, settings, python,
                     {target: AppliedFile(target, entry.original, fixed.after, False)}).kept:
        return _done(traj, calls, call, error, "tests failed", green, fixed.after, False,
                     f"{call.show()} raises {error}; the fix asked for failed the tests: check that input")
    now = probed.outputs[at]
    now = f"raises {now[1:]}" if now.startswith("!") else f"returns {now}"
    return _done(traj, calls, call, error, "fixed", green, fixed.after, True,
                 f"the green program raised {error} on {call.show()}; the committed one {now} there and passes "
                 "every test and task example")


def _done(traj: Trajectory, calls: list[Call], call: Call, error: str, outcome: str, green: str, fixed: str | None,
          swapped: bool, why: str | None) -> CrashChecked:
    traj.event("crash_check", "crash_check", calls=[c.show() for c in calls], crash=call.show(), error=error,
               outcome=outcome, green=green, fixed=fixed, swapped=swapped, why=why or "")
    return CrashChecked(swapped, why)
