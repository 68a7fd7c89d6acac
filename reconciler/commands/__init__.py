"""One module per group of CLI commands; each returns an exit code for `reconciler.cli.main`."""
