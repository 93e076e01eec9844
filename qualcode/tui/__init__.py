"""The Textual front end of the review loop (``qualcode review``).

Only ``qualcode.cli.review`` imports this package, and only inside the
command, so the rest of qualcode never loads Textual.
"""
