"""The ``qualcode`` command: one small module per command group.

Each command checks its arguments, opens the project and calls a plain
function of the library; ``QualcodeError`` becomes a one-line message and exit
code 1 in one place (``QualcodeGroup``). Heavy libraries are imported inside
the functions that need them so ``qualcode --help`` stays fast.
"""
