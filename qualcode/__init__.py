"""qualcode: local transcription, coding suggestions, review, agreement and
REFI-QDA exchange for qualitative research on recorded group sessions.

Everything runs on the researcher's machine: group sessions are confidential,
so no stage sends audio or text anywhere. The package is a library first; the
``qualcode`` command (``qualcode.cli``) is a thin layer over it.
"""

__version__ = "0.1.0"
