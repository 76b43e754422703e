"""`make demo`: a small demo repository, and one greenloop run on it with the embedded default model.

The embedded default (SmolLM2-135M) is demo quality; `greenloop models fetch qwen2.5-coder-0.5b` makes
`local` use a far more capable model. Exit status: 0 when the run succeeds or the model simply did not
achieve the task (that is the model's limit, shown honestly); 2 when greenloop itself could not run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo-repo"
TASK = ("Add a slugify(text) helper in textkit/slug.py: lowercase; every run of characters other than ASCII "
        "letters and digits becomes a single '-'; no leading or trailing '-'. "
        "Example: slugify('Hello, World!') == 'hello-world'.")


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=DEMO, check=True, timeout=60, capture_output=True)


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "textkit").mkdir(parents=True)
    (DEMO / "textkit" / "__init__.py").write_text('"""Small text helpers."""\n')
    (DEMO / "README.md").write_text("# textkit\n\nSmall text helpers.\n")
    git("init", "-q", "-b", "main")
    git("-c", "user.name=demo", "-c", "user.email=demo@localhost", "add", "-A")
    git("-c", "user.name=demo", "-c", "user.email=demo@localhost", "commit", "-qm", "textkit skeleton")
    print(f"demo repository: {DEMO}\n$ greenloop run {TASK!r}", flush=True)
    proc = subprocess.run([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(DEMO)], timeout=3600)
    if proc.returncode == 0:
        subprocess.run(["git", "log", "--all", "--stat", "-1", "--format=%n%H %s%n%b"], cwd=DEMO, timeout=60)
        return 0
    if proc.returncode == 1:
        print("The model did not achieve the task within the budget (the embedded 135M model is demo quality).\n"
              "For a capable offline model: .venv/bin/greenloop models fetch qwen2.5-coder-0.5b && make demo")
        return 0
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
