"""digest-bot: research digests as a searchable Discord catalogue with topic alerts."""

__version__ = "0.1.0"
