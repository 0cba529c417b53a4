"""The pure core: parsing, text normalisation, search and alert matching.

Nothing in this package imports discord or aiosqlite, and nothing here does network I/O.
"""
