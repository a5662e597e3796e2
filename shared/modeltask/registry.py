"""Which tasks are installed: discovered from the `aura.tasks` entry points and the `AURA_TASK_MODULES` setting.

An entry point (or a module named in the setting) points at a `Task`, an iterable of them, or a
callable returning either. The built-in tasks are entry points of AURA's own package, found the
same way as a third party's. A plugin that fails to load, or reuses a name, is left out and its
error kept, so `aura tasks list` can say what went wrong instead of the whole process failing.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from shared.modeltask.task import Task
from shared.settings import get_settings

ENTRY_POINT_GROUP = "aura.tasks"


@dataclass
class Registry:
    """The installed tasks by name, where each came from, and the plugins that failed to load."""

    tasks: dict[str, Task] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, source: str, loaded: Any) -> None:
        """Register what one plugin provides (a Task, an iterable of them, or a callable returning either)."""
        if callable(loaded) and not isinstance(loaded, Task):
            loaded = loaded()
        found = [loaded] if isinstance(loaded, Task) else list(loaded) if isinstance(loaded, Iterable) else [loaded]
        for task in found:
            if not isinstance(task, Task):
                self.errors[source] = f"provides {type(task).__name__}, not a shared.modeltask.task.Task"
            elif task.name in self.tasks:
                self.errors[source] = f"task {task.name!r} is already provided by {self.sources[task.name]}"
            else:
                self.tasks[task.name] = task
                self.sources[task.name] = source


def _import(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr or "TASKS")


@lru_cache(maxsize=1)
def registry() -> Registry:
    """Every installed task (loaded once per process)."""
    found = Registry()
    plugins: list[tuple[str, Any]] = [(f"entry point {ep.name} = {ep.value}", ep.load)
                                      for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)]
    plugins += [(f"AURA_TASK_MODULES {path}", lambda path=path: _import(path))
                for path in get_settings().task_module_paths]
    for source, load in plugins:
        try:
            found.add(source, load())
        except Exception as exc:  # a broken plugin must not take the others down; its error is shown
            found.errors[source] = f"{type(exc).__name__}: {exc}"
    return found


def tasks() -> Mapping[str, Task]:
    """The installed tasks by name."""
    return registry().tasks


def get_task(name: str) -> Task:
    """The installed task with that name; KeyError names the known ones."""
    try:
        return tasks()[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(tasks()))}") from None


@lru_cache(maxsize=1)
def known_centres() -> tuple[str, ...]:
    """Every centre some task's golden set holds rows of (what a hospital's `centre` may name)."""
    return tuple(sorted({c for task in tasks().values() for c in task.centres}))
