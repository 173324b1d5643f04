"""The `kefu` command: `serve`, `check`, `rules`, `bot` and the other subcommands."""
