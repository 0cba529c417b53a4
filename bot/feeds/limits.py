"""What a feed fetch allows by default (no import of the HTTP client: the CLI reads these to
describe its options without loading it)."""

from __future__ import annotations

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
