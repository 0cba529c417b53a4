"""Reindex: the digest folder -> the catalogue, in one transaction.

One path for the CLI (``digest-bot reindex``), ``/reindex`` and the periodic job:

1. List ``*.txt`` under the digest folder (sorted by relative path, hidden files and folders
   skipped), read and hash them, and parse the ones whose content changed, in a worker
   thread. Only regular files are read, at most ``max_bytes`` each (``MAX_DIGEST_BYTES``),
   and never more than that from any file; symbolic links are followed when they stay inside
   the folder, and out of it only with ``follow_symlinks`` (``FOLLOW_SYMLINKS=1``). A file
   that cannot be read, is not a regular file, is too big, is a link not followed or is not
   UTF-8 text is *rejected*; a folder that cannot be read (or a link to a folder not
   followed) is reported the same way. Either way it is a diagnostic and changes nothing:
   whatever the catalogue held from it stays.
2. A paper found in several digests takes its text from the newest digest: the latest date
   in the file name (``...YYYY-MM-DD...``), else the file's modification time when its
   current content was indexed; on the same date, the later file name. Digests not read this
   time are taken into account through the catalogue (and re-read when one of them becomes
   the paper's source), so the rule holds across reindexes. Two versions that differ give a
   warning naming both places.
3. One ``BEGIN IMMEDIATE`` transaction: :func:`~bot.store.reindex_write.write_digests`
   upserts digests, papers, authors and memberships and marks the papers left in no digest as
   removed; the alert hook sees the papers the catalogue has never seen and writes its outbox
   in the same transaction; the catalogue version is bumped when anything changed.
4. The caller updates its search index from :attr:`IngestResult.changed`.

A crash anywhere leaves the old catalogue or the new one, never a mix. If another process
changes the catalogue between steps 1 and 3, the reindex starts over (the catalogue version
tells).

The modules, in the order a reindex uses them: :mod:`bot.ingest.folder` (step 1: walking the
folder, reading files safely), :mod:`bot.ingest.arbitration` (step 2: which digest gives a
paper its text), :mod:`bot.ingest.pipeline` (:func:`reindex`: the steps and the one
transaction; the write itself is :mod:`bot.store.reindex_write`), :mod:`bot.ingest.report`.
The first reindex of an empty catalogue is a bulk load (:mod:`bot.ingest.bulk`): the files
are parsed in worker processes and each digest is written as its parse comes back, in the
one transaction, without holding every parsed paper; the catalogue is the same.
"""

from bot.ingest.folder import MAX_DIGEST_BYTES
from bot.ingest.pipeline import IngestResult, reindex

__all__ = ["MAX_DIGEST_BYTES", "IngestResult", "reindex"]
