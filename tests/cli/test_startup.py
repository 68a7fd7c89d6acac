"""`--help` and `validate` run in pre-commit hooks: they must not import what only plan/apply need.

Checked on sys.modules in a fresh interpreter, never by timing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconciler import cli as cli_module
from reconciler.vendors import VENDOR_PACKAGES

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("httpx", "prometheus_client", "reconciler.emulator", "deepdiff", "reconciler.providers", "rich")
VENDOR_CLIENT_CODE = ("provider", "emulator", "signing", "errors")  # under reconciler.vendors.<vendor>.

PROBE = """
import json, sys
from reconciler.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _probe(*argv: str, env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    """Run the CLI in a fresh interpreter: its exit code, the modules it imported, what it wrote on stderr."""
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=REPO,
                          check=False, env=env)
    *lines, last = done.stderr.strip().splitlines()
    report = json.loads(last)
    return report["code"], report["modules"], "\n".join(lines)


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    code, modules, _ = _probe(*argv)
    return code, modules


@pytest.mark.parametrize("argv", [("--help",), ("validate", "examples/aliyun"), ("validate", "--help")])
def test_help_and_validate_import_no_network_or_rendering_stack(argv: tuple[str, ...]) -> None:
    code, modules = _modules_after(*argv)
    assert code == 0
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)
              or (m.startswith("reconciler.vendors.") and m.rsplit(".", 1)[-1] in VENDOR_CLIENT_CODE)]
    assert loaded == []


# what `validate` of plain manifests defers: ruamel.yaml (only the slow path for aliases, tags and errors
# reads with it) and the state backends (validate never opens a state)
VALIDATE_DEFERS = ("ruamel", "reconciler.state", "reconciler.records", "sqlite3")


def test_validate_of_plain_manifests_defers_ruamel_and_the_state_backends() -> None:
    code, modules = _modules_after("validate", "examples/aliyun")
    assert code == 0
    assert [m for m in modules if m.split(".")[0] in VALIDATE_DEFERS or m.startswith(VALIDATE_DEFERS)] == []


def test_help_reads_no_package_metadata_and_no_pydantic() -> None:
    code, modules = _modules_after("--help")
    assert code == 0
    assert [m for m in modules if m.startswith(("importlib.metadata", "pydantic"))] == []


def test_version_still_comes_from_the_installed_metadata() -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True,
                          cwd=REPO, check=False)
    from importlib.metadata import version

    assert done.returncode == 0 and done.stdout == f"reconciler, version {version('rtc-reconciler')}\n"


def test_the_cli_switches_off_pydantic_plugin_discovery_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = "import os, sys\nfrom reconciler.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n" \
            "print(repr(os.environ.get('PYDANTIC_DISABLE_PLUGINS')), file=sys.stderr)"
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.stderr.strip().splitlines()[-1] == "'__all__'"
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.stderr.strip().splitlines()[-1] == "''"


def test_plan_still_loads_its_command_module() -> None:
    code, modules = _modules_after("plan", "--help")
    assert code == 0 and "reconciler.commands.plan_apply" in modules


def test_the_lazy_listing_says_what_each_command_says_of_itself() -> None:
    group = cli_module.cli
    ctx = click.Context(group)
    for name, (module, _, summary) in cli_module.COMMANDS.items():
        command = group.get_command(ctx, name)
        assert command is not None and command.name == name, name
        assert command.callback is not None and command.callback.__module__ == module, name
        assert command.get_short_help_str(1000) == summary, name


def test_help_lists_every_command_once_imported_or_not() -> None:
    ctx = click.Context(cli_module.cli, info_name="reconciler")
    text = cli_module.cli.get_help(ctx)
    for name in cli_module.COMMANDS:
        assert f"\n  {name} " in text


# --- what `validate` builds and imports follows the manifests -------------------------------------------

RULES_MODULES = {f"reconciler.vendors.{v}.rules" for v in VENDOR_PACKAGES}
KIND_MODELS = {f"reconciler.model.{m}" for m in ("layout", "mixtask", "provider", "recording", "streamrule")}


@pytest.mark.parametrize(("example", "rules", "models"), [
    ("aliyun", {"aliyun"}, {"layout", "mixtask", "provider"}),
    ("anyrtc", {"anyrtc"}, {"layout", "provider", "recording"}),
    ("tencent", {"aliyun", "tencent"}, {"layout", "mixtask", "provider"}),  # aliyun's: only it takes `layouts`
    ("zego", {"aliyun", "zego"}, {"layout", "mixtask", "provider", "streamrule"}),
])
def test_validate_builds_the_kinds_and_imports_the_vendor_rules_its_manifests_need(
        example: str, rules: set[str], models: set[str]) -> None:
    code, modules, _ = _probe("validate", f"examples/{example}")
    assert code == 0
    assert RULES_MODULES & set(modules) == {f"reconciler.vendors.{v}.rules" for v in rules}
    assert KIND_MODELS & set(modules) == {f"reconciler.model.{m}" for m in models}
    if "recording" not in models and "streamrule" not in models:  # their modules import it at the top
        assert "reconciler.model.desired" not in modules  # desired state is plan's business, not validate's


def test_validate_skips_pydantic_plugin_discovery_and_package_metadata() -> None:
    code, modules, _ = _probe("validate", "examples/aliyun")
    assert code == 0
    assert [m for m in modules if m.startswith(("importlib.metadata", "email"))] == []
    assert "pydantic.main" in modules  # the models were built all the same


def test_with_plugins_switched_on_pydantic_looks_them_up_as_usual() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    code, modules, _ = _probe("validate", "examples/aliyun", env={**env, "PYDANTIC_DISABLE_PLUGINS": ""})
    assert code == 0 and "importlib.metadata" in modules


def test_a_rule_another_vendor_keeps_for_every_vendor_runs_although_only_one_vendor_is_used(tmp_path: Path) -> None:
    """Loaded lazily, aliyun's "only Aliyun takes `layouts`" still checks a Tencent task, and anyRTC's
    "a Recording is anyRTC's" a Recording of a ZEGO provider, in a process that imported nothing before."""
    shutil.copytree(REPO / "examples" / "tencent", tmp_path / "tencent")
    mix = tmp_path / "tencent" / "mix.yaml"
    mix.write_text(mix.read_text(encoding="utf-8").replace("  layout: slides-and-speaker\n",
                                                           "  layout: slides-and-speaker\n  layouts: [slides-and-speaker]\n"),
                   encoding="utf-8")
    shutil.copytree(REPO / "examples" / "zego", tmp_path / "zego")
    (tmp_path / "zego" / "recording.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Recording\nmetadata: {name: class-audio}\n"
        "spec: {provider: zego-demo, channel: class, media: audio}\n", encoding="utf-8")
    code, _, stderr = _probe("validate", str(tmp_path / "tencent"))
    assert code == 1
    assert "spec.layouts: only Aliyun switches a mix among layouts by head count; tencent takes one `layout`" in stderr
    code, _, stderr = _probe("validate", str(tmp_path / "zego"))
    assert code == 1
    assert "Recording is an anyRTC cloud recording; provider 'zego-demo' belongs to vendor zego" in stderr


GC_PROBE = """
import gc, importlib, json, sys
from reconciler.cli import main

if sys.argv[1] == "off":
    gc.disable()
real_import = importlib.import_module
while_loading = []

def spy(name, package=None):
    if name == "reconciler.commands.validate":
        while_loading.append(gc.isenabled())
    return real_import(name, package)

importlib.import_module = spy
try:
    main(["validate", "examples/aliyun"])
except SystemExit:
    pass
print(json.dumps({"while_loading": while_loading, "after": gc.isenabled(), "frozen": gc.get_freeze_count()}),
      file=sys.stderr)
"""


@pytest.mark.parametrize("before", ["on", "off"])
def test_a_command_module_loads_with_the_collector_paused_then_frozen_and_as_it_was(before: str) -> None:
    done = subprocess.run([sys.executable, "-c", GC_PROBE, before], capture_output=True, text=True, cwd=REPO,
                          check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["while_loading"] == [False]
    assert report["after"] is (before == "on")  # a caller that switched the collector off keeps it off
    if before == "on":
        assert report["frozen"] > 10_000  # what start-up loaded is out of the collector's way from then on


STAND_IN_PROBE = """
import json, os, sys
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
from reconciler import startup
startup.skip_plugin_discovery()
stand_in = sys.modules[startup.PLUGIN_LOADER]
from pydantic import BaseModel

class Model(BaseModel):
    x: int

report = {"validated": Model.model_validate({"x": 1}).x,
          "plugins_off": list(stand_in.get_plugins()), "metadata_before": "importlib.metadata" in sys.modules,
          "has_path": hasattr(stand_in, "__path__")}
report["group"] = stand_in.PYDANTIC_ENTRY_POINT_GROUP  # anything else: the real module answers
report["real_loaded"] = sys.modules[startup.PLUGIN_LOADER] is not stand_in
os.environ["PYDANTIC_DISABLE_PLUGINS"] = ""
stand_in.get_plugins()
report["discovered"] = "importlib.metadata" in sys.modules  # pydantic's own discovery ran
print(json.dumps(report))
"""


def test_the_plugin_loader_stand_in_answers_no_plugins_and_hands_everything_else_to_pydantic() -> None:
    done = subprocess.run([sys.executable, "-c", STAND_IN_PROBE], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"validated": 1, "plugins_off": [], "metadata_before": False, "has_path": False,
                                       "group": "pydantic", "real_loaded": True, "discovered": True}
