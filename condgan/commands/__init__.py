"""One module per command group; see `condgan.cli.COMMANDS`."""
