"""Property-based fuzzing of everything a stranger can reach: the XML parser, the safe-mode envelope, the
signatures and the HTTP surface (the bot driven as a raw ASGI app, in process). The properties: never a 500,
never an exception escaping or masked as "success", never a hang, memory bounded.

By default each property gets a few dozen to a few hundred examples (the ``examples(n)`` decorator in
``conftest.py``), so the suite takes about 25 seconds and runs with the normal tests. For a long local run,
``WXHOOK_FUZZ=long .venv/bin/python -m pytest tests/fuzz``: fifty times as many examples per property and a
20,000-request memory loop. A failure prints the shrunk example and a ``@reproduce_failure`` blob; failing
examples are kept in ``.hypothesis/`` and replayed first on the next run.
"""
