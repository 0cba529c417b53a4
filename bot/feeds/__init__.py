"""Feed import: RSS / Atom feeds (arXiv API, arXiv RSS, any other) -> digest files.

``convert`` is pure (parsed feed -> digest text); ``fetch`` gets a source over HTTP(S) or from
a file (timeouts, size cap, User-Agent, ETag / Last-Modified); ``state`` keeps the
validators and the folder lock; ``importer`` ties them together for the CLI
(``digest-bot import``), ``/reindex`` and the periodic job. See ``docs/feeds.md``.
"""
