"""A Discord API double for end-to-end tests of the bot (REST + gateway on 127.0.0.1).

See README.md beside this file. The main entry point is :class:`DiscordDouble`.
"""

from .interactions import (
    DoubleError,
    InteractionFailedError,
    InteractionHandle,
    InvalidOptionError,
    NotInvocableError,
    UnknownCommandError,
)
from .limits import Problem, embed_total_chars
from .models import (
    Channel,
    Guild,
    Member,
    Overwrite,
    Perm,
    Role,
    Snowflakes,
    Team,
    TeamMember,
    User,
    World,
    default_world,
)
from .records import FaultRule, RecordedRequest, StalledSend, UploadedFile, Violation
from .server import DiscordDouble, json_response

__all__ = [
    "Channel",
    "DiscordDouble",
    "DoubleError",
    "FaultRule",
    "Guild",
    "InteractionFailedError",
    "InteractionHandle",
    "InvalidOptionError",
    "Member",
    "NotInvocableError",
    "Overwrite",
    "Perm",
    "Problem",
    "RecordedRequest",
    "Role",
    "Snowflakes",
    "StalledSend",
    "Team",
    "TeamMember",
    "UnknownCommandError",
    "UploadedFile",
    "User",
    "Violation",
    "World",
    "default_world",
    "embed_total_chars",
    "json_response",
]
