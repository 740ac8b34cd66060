"""One module per ``lfstress`` subcommand: HELP, add_arguments(parser), run(args)."""
