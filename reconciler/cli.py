"""The `reconciler` command line: a thin layer that turns arguments into workflow calls.

Exit codes are decided here and nowhere else:
    0  success; for `plan --detailed-exitcode`: no changes
    1  any error: invalid manifests, vendor errors, lock held, usage errors, a failed change
    2  `plan --detailed-exitcode`: changes are present; `compare`: the plans differ
  130  interrupted (Ctrl-C / SIGINT)
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from reconciler import httplog, startup
from reconciler.errors import Interrupted, ManifestErrors, ReconcilerError
from reconciler.safe_text import printable

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130

# name -> (module, attribute, one-line help). A command's module is imported only when that command
# runs or prints its own help: `--help` and `validate` run in pre-commit hooks and must not pay for
# httpx, the emulators or prometheus_client. tests/cli/test_startup.py keeps the summaries true.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "apply": ("reconciler.commands.plan_apply", "apply_command",
              "Plan, confirm, and make the vendors match the manifests."),
    "compare": ("reconciler.commands.compare", "compare_command",
                "Exit 0 when NEW makes the same changes as REVIEWED, 2 (listing the differences) when not."),
    "demo": ("reconciler.commands.demo", "demo_command",
             "Plan and apply the examples against the embedded emulators, then plan again (no changes)."),
    "emulator": ("reconciler.commands.emulator", "emulator_command",
                 "Run the vendor emulators (real HTTP servers enforcing auth, limits and lifecycles)."),
    "import": ("reconciler.commands.importing", "import_command",
               "Adopt a job that already runs at a vendor for the manifest resource KIND/NAME."),
    "layout": ("reconciler.commands.layout", "layout_group", "Work with Layout resources."),
    "plan": ("reconciler.commands.plan_apply", "plan_command",
             "Show what apply would change, after asking the vendors what runs now."),
    "schema": ("reconciler.commands.schema", "schema_command",
               "Print the JSON Schema of manifest documents (yaml-language-server, IDEs)."),
    "show": ("reconciler.commands.show", "show_command",
             "Render a saved plan (stale or not) without touching state or any vendor."),
    "state": ("reconciler.commands.state", "state_group", "Inspect the state store."),
    "validate": ("reconciler.commands.validate", "validate_command",
                 "Check manifests (schema, references, vendor rules, what their secrets and endpoints may reach) "
                 "without any network call and without reading any secret."),
    "watch": ("reconciler.commands.watch", "watch_command",
              "Plan and apply every INTERVAL, repairing drift, until stopped (SIGTERM/SIGINT)."),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module on first use and lists them all from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute, _ = COMMANDS[cmd_name]
            with startup.loading_command():
                loaded = importlib.import_module(module)
            self.add_command(getattr(loaded, attribute), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name][2])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """click's --version, but reading the installed version only when asked (importlib.metadata is slow)."""
    if not value or ctx.resilient_parsing:
        return
    from reconciler import __version__

    click.echo(f"reconciler, version {__version__}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("-v", "--verbose", count=True,
              help="Log to stderr: -v what the reconciler does, -vv also every HTTP exchange with the vendors "
                   "(headers left out, signatures and secret values masked).")
def cli(verbose: int) -> None:
    """Plan and apply RTC vendors' cloud mix tasks, layouts, recordings and stream rules from YAML manifests.

    Shell completion: eval "$(_RECONCILER_COMPLETE=bash_source reconciler)" in ~/.bashrc
    (zsh_source in ~/.zshrc, fish_source for fish); see the README.
    """
    httplog.configure(verbose)


def _error(message: str) -> None:
    from reconciler.secrets import REDACTOR  # only when there is an error to print

    click.echo(printable(REDACTOR(message)), err=True)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and map every outcome to one of the documented exit codes."""
    # pydantic's documented switch: the tool uses no pydantic plugins, and looking them up scans every
    # installed distribution's entry points (about 45 ms of each start-up); an explicit setting wins
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        code = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except ManifestErrors as exc:
        for error in exc.errors:
            _error(str(error))
        _error(f"error: {len(exc.errors)} problem(s) in the manifests; nothing was sent to any vendor")
        sys.exit(EXIT_ERROR)
    except Interrupted as exc:
        _error(f"interrupted: {exc}")
        sys.exit(EXIT_INTERRUPTED)
    except ReconcilerError as exc:
        _error(f"error: {exc}")
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            _error("interrupted (Ctrl-C)")
            sys.exit(EXIT_INTERRUPTED)
        _error("aborted")
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)  # usage errors are errors (1), never confused with "changes present" (2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
