"""Where benchmark tasks run: a local process pool (default) or a Ray cluster. The model is built once
per worker (and a local GGUF loaded once per worker process), never once per task."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from greenloop.bench.humaneval import TaskResult, run_agent, run_oneshot
from greenloop.config import Settings

_WORKER: dict[str, Any] = {}


def _init_worker(model_spec: str | None, settings_json: str, keep: str | None = None) -> None:
    from greenloop.models import resolve
    from greenloop.sandboxes.select import choose, limits_of

    settings = Settings.model_validate_json(settings_json)
    model = resolve(model_spec, settings)
    model.preflight()
    sandbox, _ = choose(settings.sandbox, limits_of(settings))
    _WORKER.update(model=model, sandbox=sandbox, settings=settings, keep=Path(keep) if keep else None)


def _solve(mode: str, problem: dict[str, Any]) -> TaskResult:
    model, sandbox, settings = _WORKER["model"], _WORKER["sandbox"], _WORKER["settings"]
    if mode == "oneshot":
        return run_oneshot(problem, model, sandbox)
    return run_agent(problem, model, sandbox, settings, _WORKER["keep"])


def run_local(problems: list[dict[str, Any]], mode: str, model_spec: str | None, settings: Settings,
              workers: int, keep: Path | None = None) -> Iterator[TaskResult]:
    """`keep`: a directory for each agent task's trajectory (the task's repository is deleted)."""
    init = (model_spec, settings.model_dump_json(), str(keep) if keep else None)
    if workers <= 1:  # in-process: no pickling, the model stays loaded for the whole run
        _init_worker(*init)
        for problem in problems:
            yield _solve(mode, problem)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=init) as pool:
        futures = [pool.submit(_solve, mode, p) for p in problems]
        for future in as_completed(futures):
            yield future.result()


def run_ray(problems: list[dict[str, Any]], mode: str, model_spec: str | None, settings: Settings,
            workers: int, address: str | None) -> Iterator[TaskResult]:
    try:
        import ray
    except ImportError as exc:
        from greenloop.errors import UsageError
        raise UsageError("--executor ray needs the extra: pip install 'greenloop[ray]'") from exc

    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)

    @ray.remote
    class Worker:  # one actor per worker: the model is built once per actor
        def __init__(self, spec: str | None, settings_json: str) -> None:
            _init_worker(spec, settings_json)

        def solve(self, m: str, problem: dict[str, Any]) -> dict[str, Any]:
            return _solve(m, problem).as_dict()

    actors = [Worker.remote(model_spec, settings.model_dump_json()) for _ in range(max(1, workers))]
    pending = [actors[i % len(actors)].solve.remote(mode, p) for i, p in enumerate(problems)]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield TaskResult(**ray.get(done[0]))

