"""The `reconciler` command line: a thin layer that turns arguments into workflow calls.

Exit codes are decided here and nowhere else:
    0  success; for `plan --detailed-exitcode`: no changes
    1  any error: invalid manifests, vendor errors, lock held, usage errors, a failed change
    2  `plan --detailed-exitcode`: changes are present; `compare`: the plans differ
  130  interrupted (Ctrl-C / SIGINT)
"""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler import __version__, httplog
from reconciler.commands import compare, demo, emulator, importing, layout, plan_apply, show, state
from reconciler.commands import schema as schema_cmd
from reconciler.commands import watch as watch_cmd
from reconciler.errors import Interrupted, ManifestErrors, ReconcilerError
from reconciler.safe_text import printable
from reconciler.secrets import REDACTOR

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", count=True,
              help="Log to stderr: -v what the reconciler does, -vv also every HTTP exchange with the vendors "
                   "(headers left out, signatures and secret values masked).")
def cli(verbose: int) -> None:
    """Plan and apply RTC vendors' cloud mix tasks, layouts, recordings and stream rules from YAML manifests.

    Shell completion: eval "$(_RECONCILER_COMPLETE=bash_source reconciler)" in ~/.bashrc
    (zsh_source in ~/.zshrc, fish_source for fish); see the README.
    """
    httplog.configure(verbose)


cli.add_command(plan_apply.validate_command)
cli.add_command(plan_apply.plan_command)
cli.add_command(plan_apply.apply_command)
cli.add_command(emulator.emulator_command)
cli.add_command(state.state_group)
cli.add_command(demo.demo_command)
cli.add_command(show.show_command)
cli.add_command(compare.compare_command)
cli.add_command(importing.import_command)
cli.add_command(layout.layout_group)
cli.add_command(watch_cmd.watch_command)
cli.add_command(schema_cmd.schema_command)


def _error(message: str) -> None:
    click.echo(printable(REDACTOR(message)), err=True)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and map every outcome to one of the documented exit codes."""
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
