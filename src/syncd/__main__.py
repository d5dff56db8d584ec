from syncd.cli import entry

raise SystemExit(entry())
