"""Property-based fuzzing of everything a stranger can reach: the XML parser, the safe-mode envelope, the
signatures and the HTTP surface (the bot driven as a raw ASGI app, in process). The properties: never a 500,
never an exception escaping or masked as "success", never a hang, memory bounded.

The fast profile (``ci``, the default) keeps the whole suite to a few seconds of work per test, so it runs in
the normal test run. For a long local run, ``WXHOOK_FUZZ=long .venv/bin/python -m pytest tests/fuzz`` (the
``long`` hypothesis profile: many more examples per property and a 20,000-request memory loop). A failure
prints the shrunk example and a ``@reproduce_failure`` blob; the examples that failed are kept in
``.hypothesis/`` and replayed first on the next run.
"""
