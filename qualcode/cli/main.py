"""Entry point: attaches every command module to the app."""

from __future__ import annotations

import importlib

from qualcode.cli.apps import app

# Each module attaches its commands to the apps in qualcode.cli.apps when
# imported. They import nothing heavy at module level.
COMMAND_MODULES = [
    "project",
    "codebook",
    "imports",
    "sessions",
    "transcribe",
    "coding",
    "review",
    "report",
    "exchange",
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"qualcode.cli.{_name}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
