"""digest-bot: research digests as a searchable Discord catalogue with topic alerts."""

import importlib.metadata

try:  # the one version is pyproject.toml's, as installed
    __version__ = importlib.metadata.version("digest-bot")
except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
