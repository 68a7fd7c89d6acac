"""What the CLI does around loading a command so that `--help` and `validate` start fast (pre-commit hooks).

Two costs of every start-up that buy nothing for this tool:

- The cyclic garbage collector. Loading a command allocates a few hundred thousand objects that live as
  long as the process (modules, classes, pydantic's validators); the collector walks them again and
  again while they are created and finds almost nothing to free. It is paused while the command's
  module loads; what is loaded by then is frozen (moved out of the collector's generations, see
  `gc.freeze`) and collection resumes before the command runs, so the command collects as usual.
- pydantic's plugin discovery. pydantic imports `pydantic.plugin._loader` when it builds the first
  model, and that module imports `importlib.metadata` (and with it email, zipfile, csv: about 20 ms)
  to scan installed distributions for plugins, even when PYDANTIC_DISABLE_PLUGINS switches them all
  off, as the CLI does. While they are off, a stand-in answers "no plugins" without that import;
  anything else asked of it, or the question asked with plugins switched on, loads the real module.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from reconciler.gcpause import collector_paused

PLUGIN_LOADER = "pydantic.plugin._loader"
PLUGINS_OFF = ("__all__", "1", "true")  # the values with which pydantic's own get_plugins() returns ()


class PluginLoaderStandIn(ModuleType):
    """`pydantic.plugin._loader` while plugins are off: no plugins, without importing importlib.metadata."""

    def get_plugins(self) -> Any:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in PLUGINS_OFF:
            return ()
        return self._real().get_plugins()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asks for __path__ and the like: a plain module has none
            raise AttributeError(name)
        return getattr(self._real(), name)

    def _real(self) -> ModuleType:
        if sys.modules.get(PLUGIN_LOADER) is self:
            del sys.modules[PLUGIN_LOADER]
        return importlib.import_module(PLUGIN_LOADER)


def skip_plugin_discovery() -> None:
    """Stand in for pydantic's plugin loader while PYDANTIC_DISABLE_PLUGINS switches every plugin off."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in PLUGINS_OFF and PLUGIN_LOADER not in sys.modules:
        sys.modules[PLUGIN_LOADER] = PluginLoaderStandIn(PLUGIN_LOADER)


@contextmanager
def loading_command() -> Iterator[None]:
    """Around the import of a command's module: no plugin discovery, the collector paused then frozen."""
    skip_plugin_discovery()
    # what the command's module loads lives as long as the process: frozen, never walked again
    with collector_paused(freeze=True):
        yield
