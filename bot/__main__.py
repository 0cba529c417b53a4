"""``python -m bot`` / ``digest-bot``: the command-line face of the same core."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
