"""The vendor registry is the only place the core learns which vendors exist.

- The core's code names no vendor: no vendor name as a string, no import of a vendor's package.
- A vendor added as a new folder plus one registry line, with the rest of the package untouched, is
  validated, planned, applied and emulated like the shipped ones (run on a copy of the package).
- Importing model and plan loads each vendor's descriptor and rules, never a provider, an emulator
  or httpx (the purity rule at module granularity, including the rules loaded through the registry).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import registry
from reconciler.vendors import VENDOR_PACKAGES, descriptor, descriptors, vendor_names
from tests.conftest import REPO

PACKAGE = REPO / "reconciler"
# Third-party storage and extension services the Recording kind (the API anyRTC shares with Agora) can
# write to; they are named like RTC vendors but are fields of the recording API, not vendors.
RECORDING_SERVICES = {"aliyun_vod", "AliyunVod", "aliyunVod", "aliyun-oss", "tencent-cos"}


def _core_modules() -> list[Path]:
    vendors_dir = PACKAGE / "vendors"
    return [path for path in PACKAGE.rglob("*.py") if vendors_dir not in path.parents]


def _vendor_mentions(tree: ast.AST, names: set[str]) -> list[str]:
    """Code (not docstrings or comments) that names a vendor: string constants, identifiers, imports."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        words: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in RECORDING_SERVICES:
                continue
            words = [w for part in node.value.split("/") for w in part.replace(":", ".").split(".")]
        elif isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, ast.Attribute):
            words = [node.attr]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            words = [node.name]
        elif isinstance(node, ast.ImportFrom) and node.module:
            words = node.module.split(".")
        elif isinstance(node, ast.Import):
            words = [part for alias in node.names for part in alias.name.split(".")]
        for word in words:
            if word in RECORDING_SERVICES:
                continue
            tokens = {word.lower(), *word.lower().split("_"), *word.lower().split("-")}
            hits = tokens & names
            if hits or any(word.lower().startswith(n) and word[len(n):len(n) + 1].isupper() for n in names
                           if word[:1].isupper()):
                found.append(f"{getattr(node, 'lineno', '?')}: {word!r}")
    return found


def test_the_core_names_no_vendor_outside_the_registry() -> None:
    names = set(VENDOR_PACKAGES)
    offenders = {}
    for path in _core_modules():
        mentions = _vendor_mentions(ast.parse(path.read_text(encoding="utf-8")), names)
        if mentions:
            offenders[str(path.relative_to(REPO))] = mentions
    assert offenders == {}, "core modules name vendors; reach them through reconciler.vendors instead"


def test_the_scan_finds_a_vendor_named_in_code() -> None:
    names = set(VENDOR_PACKAGES)
    source = textwrap.dedent('''
        """Docstrings may mention Aliyun."""
        from reconciler.vendors.zego.rules import vendor_stream_id
        ENDPOINT = {"tencent": "https://console.tim.qq.com"}
        class AnyrtcThing: ...
        def uses(): return emulator_class("aliyun")
        STORAGE = "aliyun-oss"
    ''')
    mentions = _vendor_mentions(ast.parse(source), names)
    assert sorted(m.split(": ", 1)[1] for m in mentions) == ["'AnyrtcThing'", "'aliyun'", "'tencent'", "'zego'"]


def test_every_vendor_folder_is_registered_and_complete() -> None:
    folders = {p.name for p in (PACKAGE / "vendors").iterdir() if p.is_dir() and (p / "descriptor.py").exists()}
    assert folders == set(vendor_names())
    for vendor in descriptors():
        assert vendor.name in VENDOR_PACKAGES
        folder = PACKAGE / "vendors" / vendor.name
        for module in ("descriptor.py", "rules.py", "provider.py", "emulator.py"):
            assert (folder / module).is_file(), f"{vendor.name} lacks {module}"
        assert vendor.kinds and vendor.credentials and vendor.default_endpoint.startswith("https://")
        assert all(limit.source for limit in vendor.rate_limits.values())
        assert set(vendor.capabilities) <= vendor.kinds


def test_an_unregistered_vendor_name_imports_nothing() -> None:
    """What a manifest says never decides which module is imported: only registered names load."""
    for name in ("shared", "descriptor", "os", "../x", "aliyun.provider"):
        try:
            descriptor(name)
        except KeyError as exc:
            assert "unknown vendor" in str(exc)
        else:  # pragma: no cover - the assertion explains the failure
            raise AssertionError(f"{name!r} was accepted as a vendor")


def _fresh_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=REPO)


def test_model_and_plan_load_descriptors_and_rules_only() -> None:
    result = _fresh_python(textwrap.dedent("""
        import json, sys
        import reconciler.model, reconciler.plan
        from reconciler.model import load_manifests
        load_manifests(["examples/aliyun", "examples/anyrtc", "examples/tencent", "examples/zego"])
        print(json.dumps(sorted(m for m in sys.modules if m.startswith(("reconciler.vendors", "httpx")))))
    """))
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    vendor_modules = {m for m in loaded if m.count(".") == 3 and m.split(".")[2] in VENDOR_PACKAGES}
    pure_helpers = {"reconciler.vendors.aliyun.layouts"}  # imported by aliyun's rules; pure by the import contract
    assert vendor_modules == {f"reconciler.vendors.{v}.{m}" for v in VENDOR_PACKAGES
                              for m in ("descriptor", "rules")} | pure_helpers
    assert not [m for m in loaded if m.startswith("httpx")]


# A fifth vendor, written as a user would: these files plus one registry line, nothing else.
ACME = {
    "__init__.py": '"""Acme: a vendor added in a test."""\n',
    "descriptor.py": '''
        from reconciler.capabilities import KindCapabilities
        from reconciler.ratelimit import RateLimit
        from reconciler.vendors.descriptor import Credential, DocumentedLimit, VendorDescriptor

        DESCRIPTOR = VendorDescriptor(
            name="acme",
            credentials=(Credential("apiKey", "ACME_API_KEY"),),
            default_endpoint="https://api.acme.example",
            official_hosts=("api.acme.example",),
            kinds=frozenset({"MixTask"}),
            rate_limits={"calls": DocumentedLimit(RateLimit(50), "the Acme API guide")},
            capabilities={"MixTask": KindCapabilities(update_groups={"layout": "update-layout"})},
            provider_class="AcmeProvider",
            emulator_class="AcmeEmulator",
        )
    ''',
    "rules.py": '''
        from typing import cast

        from reconciler.model.mixtask import MixTaskSpec
        from reconciler.model.registry import Violation, register_rule


        @register_rule("MixTask", "acme")
        def acme_channel(resource, manifests):
            if not cast(MixTaskSpec, resource.spec).channel.startswith("acme-"):
                yield Violation(("spec", "channel"), "Acme channels start with 'acme-'")
    ''',
    "provider.py": '''
        from reconciler.providers.base import BaseProvider
        from reconciler.records import Observation
        from reconciler.vendors.acme.descriptor import DESCRIPTOR


        class AcmeProvider(BaseProvider):
            vendor = "acme"
            RATE_LIMITS = DESCRIPTOR.documented_rate_limits()
            MAIN_HANDLES = {"MixTask": "task"}

            def new_handles(self, kind, name, spec, generation):
                return {"task": f"{name}-{generation}"}

            async def _call(self, action, body):
                await self.throttle("calls", self.ctx.app_id)
                key = self.secret("apiKey").reveal()
                response = await self.send(action, lambda: self.ctx.client.post(
                    f"{self.ctx.endpoint}/v1/{action}", json=body, headers={"Authorization": f"Bearer {key}"}))
                return self.json_envelope(action, response, "code", "Acme")

            async def observe(self, kind, handles, spec):
                status = (await self._call("status", {"task": handles["task"]}))["status"]
                return Observation("active" if status == "running" else "absent", status)

            async def start(self, kind, handles, spec, save):
                save(handles)
                await self._call("start", {"task": handles["task"], "layout": spec.get("layout")})
                return dict(handles)

            async def update(self, kind, handles, spec, groups):
                await self._call("update", {"task": handles["task"], "layout": spec.get("layout")})
                return dict(handles)

            async def stop(self, kind, handles, spec):
                await self._call("stop", {"task": handles["task"]})
    ''',
    "emulator.py": '''
        from reconciler.emulator.base import EmulatorResponse, VendorEmulator


        class AcmeEmulator(VendorEmulator):
            vendor = "acme"
            DEMO_ACCOUNTS = [{"appId": "acme-app", "apiKey": "acme-demo-key"}]
            DEMO_ENV = {"ACME_API_KEY": "acme-demo-key"}

            def __init__(self, accounts=None, clock=None):
                super().__init__(accounts, clock)
                self.tasks = {}

            def action_of(self, request):
                return request.path.rsplit("/", 1)[-1]

            def handle(self, request):
                keys = {f"Bearer {a['apiKey']}" for a in self.accounts}
                if request.headers.get("authorization") not in keys:
                    return EmulatorResponse.json(401, {"code": "auth"}, "error:auth")
                body, action = request.json() or {}, self.action_of(request)
                task = self.tasks.setdefault(body["task"], {"status": "none"})
                if action == "start":
                    task.update(status="running", layout=body["layout"])
                elif action == "update":
                    task["layout"] = body["layout"]
                elif action == "stop":
                    task["status"] = "stopped"
                return EmulatorResponse.json(200, {"code": 0, "status": task["status"]})

            def error_response(self, request, code, status, message):
                return EmulatorResponse.json(status or 500, {"code": code or "error", "message": message})

            def state_snapshot(self):
                return {"tasks": self.tasks}

            def drift(self, body):
                return {}

            def reset_tasks(self):
                self.tasks.clear()
    ''',
}

MANIFESTS = '''
apiVersion: reconciler/v1
kind: Provider
metadata: {name: acme-demo}
spec:
  vendor: acme
  appId: acme-app
  credentials: {apiKey: {env: ACME_API_KEY}}
---
apiVersion: reconciler/v1
kind: Layout
metadata: {name: solo}
spec:
  canvas: {width: 1280, height: 720}
  panes: [{user: host, x: 0, y: 0, width: 1, height: 1}]
---
apiVersion: reconciler/v1
kind: MixTask
metadata: {name: keynote}
spec:
  provider: acme-demo
  channel: CHANNEL
  layout: solo
  output: {streamUrl: "rtmp://push.example.com/live/keynote", encoding: 720p}
  state: running
'''

DRIVER = '''
import json, os, sys
import reconciler
from reconciler.cli import main
from reconciler.emulator.cluster import EmulatorCluster, emulator_class


def run(*args):
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


work = sys.argv[1]
print("PACKAGE", reconciler.__file__, flush=True)
bad, good, state = f"{work}/bad", f"{work}/good", f"sqlite:///{work}/state.db"
print("validate-bad", run("validate", bad), flush=True)
print("validate-good", run("validate", good), flush=True)
cluster = EmulatorCluster.start(vendors=["acme"])
try:
    os.environ.update(emulator_class("acme").DEMO_ENV)
    cluster.write_endpoints(f"{work}/endpoints.json")
    common = ("--state", state, "--endpoints-file", f"{work}/endpoints.json")
    print("plan", run("plan", good, *common), flush=True)
    print("apply", run("apply", good, "--auto-approve", *common), flush=True)
    print("again", run("plan", good, "--detailed-exitcode", *common), flush=True)
    print("EMULATOR", json.dumps(cluster.emulator("acme").state_snapshot()))
finally:
    cluster.stop()
'''


def test_a_new_vendor_folder_plus_one_registry_line_is_validated_planned_and_emulated(tmp_path: Path) -> None:
    copy = tmp_path / "pkg" / "reconciler"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    acme = copy / "vendors" / "acme"
    acme.mkdir()
    for name, text in ACME.items():
        (acme / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    registry = copy / "vendors" / "__init__.py"
    before = registry.read_text(encoding="utf-8")
    last = f'    "{VENDOR_PACKAGES[-1]}",\n)'
    assert before.count(last) == 1
    registry.write_text(before.replace(last, f'    "{VENDOR_PACKAGES[-1]}",\n    "acme",\n)'), encoding="utf-8")
    changed = [line for line in registry.read_text(encoding="utf-8").splitlines() if line not in before.splitlines()]
    assert changed == ['    "acme",']  # the one registry line

    for case, channel in (("bad", "keynote"), ("good", "acme-keynote")):
        (tmp_path / case).mkdir()
        (tmp_path / case / "acme.yaml").write_text(MANIFESTS.replace("CHANNEL", channel), encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy.parent), "RECONCILER_ENDPOINTS_FILE": ""}
    result = subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(tmp_path)], capture_output=True,
                            text=True, timeout=300, env=env, cwd=tmp_path)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.split(" ", 1)[0] in
                 ("PACKAGE", "validate-bad", "validate-good", "plan", "apply", "again", "EMULATOR"))
    assert lines.get("validate-bad") == "1", result.stdout + result.stderr
    assert "spec.channel: Acme channels start with 'acme-'" in result.stderr
    assert (lines["validate-good"], lines["plan"], lines["apply"], lines["again"]) == ("0", "0", "0", "0"), \
        result.stdout + result.stderr
    assert "MixTask/keynote" in result.stdout
    tasks = json.loads(lines["EMULATOR"])["tasks"]
    assert [(t["status"], t["layout"]["canvas"]["width"]) for t in tasks.values()] == [("running", 1280)]
    assert lines["PACKAGE"] == str(copy / "__init__.py")  # the copy ran, not the installed package


def test_a_vendor_registers_rules_for_every_vendor_only_for_the_kinds_its_descriptor_names() -> None:
    """What lets the registry import a vendor's rules only when a manifest needs them (start-up)."""
    result = _fresh_python(textwrap.dedent("""
        import json
        from reconciler.model.registry import RULES
        from reconciler.vendors import import_rules
        import_rules()
        print(json.dumps([[kind, fn.__module__] for (kind, vendor), fns in RULES.items() if vendor is None
                          for fn in fns]))
    """))
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    by_vendor = [(kind, module.split(".")[2]) for kind, module in found if module.startswith("reconciler.vendors.")]
    assert by_vendor, "no vendor keeps a rule for every vendor: the check below would prove nothing"
    for kind, vendor in by_vendor:
        assert kind in descriptor(vendor).rules_for_every_vendor, (kind, vendor)


def _from(module: str) -> Callable[..., Any]:
    def fn(*_args: Any) -> Any:
        return ()

    fn.__module__ = module
    return fn


def test_rules_and_derivers_run_core_first_then_in_registry_order_whatever_the_import_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Vendors' rules are imported when a manifest first needs them, so in any order: the order they run
    in (and so the order of the errors) must not follow it."""
    monkeypatch.setattr(registry, "RULES", {})
    monkeypatch.setattr(registry, "DERIVERS", [])
    first, second = (f"reconciler.vendors.{v}.rules" for v in VENDOR_PACKAGES[:2])
    for module in (second, first, "reconciler.model.rules", second):
        registry.register_rule("SomeKind")(_from(module))
        registry.register_deriver(_from(module))
    expected = ["reconciler.model.rules", first, second, second]
    assert [f.__module__ for f in registry.RULES[("SomeKind", None)]] == expected
    assert [f.__module__ for f in registry.DERIVERS] == expected
