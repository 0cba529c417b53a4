"""Discord's documented size limits, checked on every body the bot sends.

Each check returns a list of :class:`Problem` (empty when the body is fine). Problems carry
the JSON path inside the body, so the double can answer like Discord does
(``400 {"code": 50035, "message": "Invalid Form Body", "errors": {...}}``) and tests can
read a precise description.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
Path = tuple[str | int, ...]

MESSAGE_CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
BUTTON_URL_MAX = 512
BUTTON_URL_SCHEMES = ("http://", "https://", "discord://")
EMBED_URL_SCHEMES = ("http://", "https://")
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100
MODAL_TITLE_MAX = 45
COMMAND_NAME_RE = re.compile(r"^[-_a-z0-9]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_TOTAL_CHARS_MAX = 4000
COMMANDS_PER_SCOPE_MAX = 100

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15


@dataclass(frozen=True)
class Problem:
    """One broken rule. ``path`` locates it in the checked body, e.g. ``("embeds", 0, "title")``."""

    path: Path
    message: str
    code: str = "BASE_TYPE_MAX_LENGTH"

    def where(self) -> str:
        return ".".join(str(p) for p in self.path) or "<body>"

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _max(path: Path, value: Any, limit: int, what: str) -> list[Problem]:
    if isinstance(value, str) and len(value) > limit:
        return [Problem(path, f"{what} is {len(value)} chars; must be {limit} or fewer in length.")]
    return []


def _required_text(path: Path, value: Any, limit: int, what: str) -> list[Problem]:
    if not isinstance(value, str) or not value:
        return [
            Problem(
                path, f"{what} is required and must be 1 or more in length.", "BASE_TYPE_REQUIRED"
            )
        ]
    return _max(path, value, limit, what)


def embed_total_chars(embeds: Iterable[Mapping[str, Any]]) -> int:
    """Characters Discord counts towards the 6000 limit (title, description, fields,
    footer text, author name) summed over all embeds of one message."""
    total = 0
    for e in embeds:
        total += _len(e.get("title")) + _len(e.get("description"))
        for f in e.get("fields") or []:
            if isinstance(f, Mapping):
                total += _len(f.get("name")) + _len(f.get("value"))
        footer = e.get("footer")
        if isinstance(footer, Mapping):
            total += _len(footer.get("text"))
        author = e.get("author")
        if isinstance(author, Mapping):
            total += _len(author.get("name"))
    return total


def check_embeds(embeds: Any, base: Path = ("embeds",)) -> list[Problem]:
    if embeds is None:
        return []
    if not isinstance(embeds, list):
        return [Problem(base, "embeds must be an array.", "BASE_TYPE_ARRAY")]
    out: list[Problem] = []
    if len(embeds) > EMBEDS_MAX:
        out.append(
            Problem(
                base,
                f"{len(embeds)} embeds; must be {EMBEDS_MAX} or fewer.",
                "BASE_TYPE_MAX_LENGTH",
            )
        )
    for i, e in enumerate(embeds):
        p: Path = (*base, i)
        if not isinstance(e, Mapping):
            out.append(Problem(p, "embed must be an object.", "MODEL_TYPE_CONVERT"))
            continue
        out += _max((*p, "title"), e.get("title"), EMBED_TITLE_MAX, "embed title")
        url = e.get("url")
        if url is not None and (
            not isinstance(url, str)
            or not url.startswith(EMBED_URL_SCHEMES)
            or any(c.isspace() for c in url)
        ):
            out.append(
                Problem(
                    (*p, "url"),
                    f"Not a well formed URL: {str(url)[:80]!r}.",
                    "URL_TYPE_INVALID_URL",
                )
            )
        out += _max(
            (*p, "description"), e.get("description"), EMBED_DESCRIPTION_MAX, "embed description"
        )
        fields = e.get("fields") or []
        if isinstance(fields, list):
            if len(fields) > EMBED_FIELDS_MAX:
                out.append(
                    Problem(
                        (*p, "fields"),
                        f"{len(fields)} fields; must be {EMBED_FIELDS_MAX} or fewer.",
                    )
                )
            for j, f in enumerate(fields):
                fp: Path = (*p, "fields", j)
                if not isinstance(f, Mapping):
                    out.append(Problem(fp, "field must be an object.", "MODEL_TYPE_CONVERT"))
                    continue
                out += _required_text(
                    (*fp, "name"), f.get("name"), EMBED_FIELD_NAME_MAX, "field name"
                )
                out += _required_text(
                    (*fp, "value"), f.get("value"), EMBED_FIELD_VALUE_MAX, "field value"
                )
        footer = e.get("footer")
        if isinstance(footer, Mapping):
            out += _max((*p, "footer", "text"), footer.get("text"), EMBED_FOOTER_MAX, "footer text")
        author = e.get("author")
        if isinstance(author, Mapping):
            out += _max((*p, "author", "name"), author.get("name"), EMBED_AUTHOR_MAX, "author name")
    total = embed_total_chars(e for e in embeds if isinstance(e, Mapping))
    if total > EMBED_TOTAL_MAX:
        out.append(
            Problem(base, f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX} (is {total}).")
        )
    return out


def _check_select(comp: Mapping[str, Any], p: Path) -> list[Problem]:
    out: list[Problem] = []
    out += _max(
        (*p, "placeholder"), comp.get("placeholder"), SELECT_PLACEHOLDER_MAX, "select placeholder"
    )
    if comp.get("type") == 3:
        options = comp.get("options") or []
        if not isinstance(options, list) or not options:
            out.append(
                Problem(
                    (*p, "options"), "string select needs 1 to 25 options.", "BASE_TYPE_BAD_LENGTH"
                )
            )
            options = []
        if len(options) > SELECT_OPTIONS_MAX:
            out.append(
                Problem(
                    (*p, "options"),
                    f"{len(options)} options; must be {SELECT_OPTIONS_MAX} or fewer.",
                )
            )
        values: set[Any] = set()
        for k, opt in enumerate(options):
            op: Path = (*p, "options", k)
            if not isinstance(opt, Mapping):
                out.append(Problem(op, "option must be an object.", "MODEL_TYPE_CONVERT"))
                continue
            out += _required_text(
                (*op, "label"), opt.get("label"), SELECT_OPTION_TEXT_MAX, "option label"
            )
            out += _required_text(
                (*op, "value"), opt.get("value"), SELECT_OPTION_TEXT_MAX, "option value"
            )
            out += _max(
                (*op, "description"),
                opt.get("description"),
                SELECT_OPTION_TEXT_MAX,
                "option description",
            )
            if opt.get("value") in values:
                out.append(
                    Problem(
                        (*op, "value"),
                        "option values must be unique.",
                        "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    )
                )
            values.add(opt.get("value"))
        n = len(options)
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if isinstance(hi, int) and n and hi > n:
            out.append(
                Problem(
                    (*p, "max_values"), f"max_values {hi} exceeds {n} options.", "BASE_TYPE_MAX"
                )
            )
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            out.append(
                Problem((*p, "min_values"), "min_values exceeds max_values.", "BASE_TYPE_MAX")
            )
    return out


def _walk_custom_ids(comps: Any, base: Path, seen: dict[str, Path], out: list[Problem]) -> None:
    """custom_id length and uniqueness anywhere in a component tree (v1 and v2)."""
    if not isinstance(comps, list):
        return
    for i, c in enumerate(comps):
        if not isinstance(c, Mapping):
            continue
        p: Path = (*base, i)
        cid = c.get("custom_id")
        if isinstance(cid, str):
            out.extend(_max((*p, "custom_id"), cid, CUSTOM_ID_MAX, "custom_id"))
            if cid in seen:
                out.append(
                    Problem(
                        (*p, "custom_id"),
                        f"custom_id {cid!r} is duplicated in this message.",
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                    )
                )
            seen[cid] = p
        _walk_custom_ids(c.get("components"), (*p, "components"), seen, out)
        acc = c.get("accessory")
        if isinstance(acc, Mapping):
            _walk_custom_ids([acc], (*p, "accessory"), seen, out)


def _check_link_button(comp: Mapping[str, Any], p: Path) -> list[Problem]:
    """Style 5: a url (http, https or discord; at most 512 characters) and no custom_id."""
    out: list[Problem] = []
    url = comp.get("url")
    if not url:
        out.append(Problem((*p, "url"), "link buttons need a url.", "BASE_TYPE_REQUIRED"))
    elif (
        not isinstance(url, str)
        or not url.startswith(BUTTON_URL_SCHEMES)
        or any(c.isspace() for c in url)
    ):
        out.append(
            Problem(
                (*p, "url"), f"Not a well formed URL: {str(url)[:80]!r}.", "URL_TYPE_INVALID_URL"
            )
        )
    else:
        out += _max((*p, "url"), url, BUTTON_URL_MAX, "link button url")
    if comp.get("custom_id") is not None:
        out.append(
            Problem(
                (*p, "custom_id"),
                "link buttons cannot have a custom_id.",
                "COMPONENT_LINK_BUTTON_CUSTOM_ID",
            )
        )
    return out


def check_components(
    components: Any, *, flags: int = 0, base: Path = ("components",)
) -> list[Problem]:
    if components is None:
        return []
    if not isinstance(components, list):
        return [Problem(base, "components must be an array.", "BASE_TYPE_ARRAY")]
    out: list[Problem] = []
    _walk_custom_ids(components, base, {}, out)
    if flags & FLAG_COMPONENTS_V2:
        return out  # layout components follow other rules; only custom_ids are checked
    if len(components) > ACTION_ROWS_MAX:
        out.append(
            Problem(base, f"{len(components)} action rows; must be {ACTION_ROWS_MAX} or fewer.")
        )
    for i, row in enumerate(components):
        p: Path = (*base, i)
        if not isinstance(row, Mapping) or row.get("type") != 1:
            out.append(
                Problem(
                    p, "top-level components must be action rows (type 1).", "UNION_TYPE_CHOICES"
                )
            )
            continue
        children = row.get("components") or []
        if not isinstance(children, list) or not children:
            out.append(
                Problem(
                    (*p, "components"),
                    "an action row needs 1 to 5 components.",
                    "BASE_TYPE_BAD_LENGTH",
                )
            )
            continue
        buttons = [c for c in children if isinstance(c, Mapping) and c.get("type") == 2]
        selects = [
            c for c in children if isinstance(c, Mapping) and c.get("type") in (3, 5, 6, 7, 8)
        ]
        if len(buttons) > BUTTONS_PER_ROW_MAX:
            out.append(
                Problem(
                    (*p, "components"),
                    f"{len(buttons)} buttons in one row; must be {BUTTONS_PER_ROW_MAX} or fewer.",
                )
            )
        if selects and len(children) > 1:
            out.append(
                Problem(
                    (*p, "components"),
                    "a select menu must be alone in its action row.",
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                )
            )
        for j, comp in enumerate(children):
            cp: Path = (*p, "components", j)
            if not isinstance(comp, Mapping):
                continue
            if comp.get("type") == 2:
                out += _max((*cp, "label"), comp.get("label"), BUTTON_LABEL_MAX, "button label")
                style = comp.get("style")
                if style == 5:
                    out += _check_link_button(comp, cp)
                else:
                    if style != 6 and not comp.get("custom_id"):
                        out.append(
                            Problem(
                                (*cp, "custom_id"),
                                "buttons need a custom_id.",
                                "BASE_TYPE_REQUIRED",
                            )
                        )
                    if comp.get("url") is not None:
                        out.append(
                            Problem(
                                (*cp, "url"),
                                "only link buttons (style 5) have a url.",
                                "COMPONENT_INVALID_URL",
                            )
                        )
            elif comp.get("type") in (3, 5, 6, 7, 8):
                out += _check_select(comp, cp)
    return out


def check_message(
    body: Mapping[str, Any], *, base: Path = (), require_something: bool = True
) -> list[Problem]:
    """A message create/edit body (channel message, webhook, interaction response data)."""
    out: list[Problem] = []
    content = body.get("content")
    out += _max((*base, "content"), content, MESSAGE_CONTENT_MAX, "content")
    out += check_embeds(body.get("embeds"), (*base, "embeds"))
    flags = body.get("flags") or 0
    out += check_components(
        body.get("components"),
        flags=flags if isinstance(flags, int) else 0,
        base=(*base, "components"),
    )
    if require_something and not (
        content
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        out.append(Problem(base, "Cannot send an empty message", "EMPTY_MESSAGE"))
    return out


def check_autocomplete(data: Any, base: Path = ("data",)) -> list[Problem]:
    if not isinstance(data, Mapping):
        return [Problem(base, "autocomplete data is required.", "BASE_TYPE_REQUIRED")]
    choices = data.get("choices")
    if not isinstance(choices, list):
        return [Problem((*base, "choices"), "choices must be an array.", "BASE_TYPE_ARRAY")]
    return check_choices(choices, (*base, "choices"))


def check_choices(choices: Sequence[Any], base: Path) -> list[Problem]:
    out: list[Problem] = []
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        out.append(
            Problem(base, f"{len(choices)} choices; must be {AUTOCOMPLETE_CHOICES_MAX} or fewer.")
        )
    for i, ch in enumerate(choices):
        p: Path = (*base, i)
        if not isinstance(ch, Mapping):
            out.append(Problem(p, "choice must be an object.", "MODEL_TYPE_CONVERT"))
            continue
        out += _required_text((*p, "name"), ch.get("name"), CHOICE_NAME_MAX, "choice name")
        value = ch.get("value")
        if isinstance(value, str):
            out += _max((*p, "value"), value, CHOICE_STRING_VALUE_MAX, "choice value")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            out.append(
                Problem(
                    (*p, "value"),
                    "choice value must be a string or a number.",
                    "BASE_TYPE_REQUIRED",
                )
            )
    return out


def check_modal(data: Any, base: Path = ("data",)) -> list[Problem]:
    if not isinstance(data, Mapping):
        return [Problem(base, "modal data is required.", "BASE_TYPE_REQUIRED")]
    out = _required_text((*base, "title"), data.get("title"), MODAL_TITLE_MAX, "modal title")
    out += _required_text((*base, "custom_id"), data.get("custom_id"), CUSTOM_ID_MAX, "custom_id")
    comps = data.get("components")
    if not isinstance(comps, list) or not 1 <= len(comps) <= ACTION_ROWS_MAX:
        out.append(
            Problem(
                (*base, "components"), "a modal needs 1 to 5 components.", "BASE_TYPE_BAD_LENGTH"
            )
        )
    else:
        _walk_custom_ids(comps, (*base, "components"), {}, out)
    return out


# ---------------------------------------------------------------- application commands


def _command_chars(obj: Mapping[str, Any]) -> int:
    """Names, descriptions and choice names/values, recursively (the 4000-char rule)."""
    total = _len(obj.get("name")) + _len(obj.get("description"))
    for ch in obj.get("choices") or []:
        if isinstance(ch, Mapping):
            total += _len(ch.get("name")) + len(str(ch.get("value", "")))
    for opt in obj.get("options") or []:
        if isinstance(opt, Mapping):
            total += _command_chars(opt)
    return total


def _check_options(options: Any, p: Path, depth: int) -> list[Problem]:
    if options is None:
        return []
    if not isinstance(options, list):
        return [Problem(p, "options must be an array.", "BASE_TYPE_ARRAY")]
    out: list[Problem] = []
    if len(options) > COMMAND_OPTIONS_MAX:
        out.append(Problem(p, f"{len(options)} options; must be {COMMAND_OPTIONS_MAX} or fewer."))
    names: set[str] = set()
    seen_optional = False
    kinds = {o.get("type") in (1, 2) for o in options if isinstance(o, Mapping)}
    if len(kinds) > 1:
        out.append(
            Problem(
                p,
                "subcommands cannot be mixed with other options.",
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            )
        )
    for i, opt in enumerate(options):
        op: Path = (*p, i)
        if not isinstance(opt, Mapping):
            out.append(Problem(op, "option must be an object.", "MODEL_TYPE_CONVERT"))
            continue
        name, otype = opt.get("name"), opt.get("type")
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name):
            out.append(
                Problem(
                    (*op, "name"),
                    f"option name {name!r} must match {COMMAND_NAME_RE.pattern}.",
                    "APPLICATION_COMMAND_INVALID_NAME",
                )
            )
        elif name in names:
            out.append(
                Problem(
                    (*op, "name"),
                    f"duplicate option name {name!r}.",
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                )
            )
        else:
            names.add(name)
        out += _required_text(
            (*op, "description"),
            opt.get("description"),
            COMMAND_DESCRIPTION_MAX,
            "option description",
        )
        if not isinstance(otype, int) or not 1 <= otype <= 11:
            out.append(
                Problem((*op, "type"), f"unknown option type {otype!r}.", "BASE_TYPE_CHOICES")
            )
            continue
        if otype in (1, 2):
            if otype == 2 and depth > 0:
                out.append(
                    Problem(
                        op,
                        "subcommand groups cannot be nested.",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    )
                )
            if otype == 1 and depth > 1:
                out.append(
                    Problem(
                        op,
                        "too deeply nested subcommand.",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    )
                )
            sub = opt.get("options")
            if (
                otype == 2
                and isinstance(sub, list)
                and any(isinstance(s, Mapping) and s.get("type") != 1 for s in sub)
            ):
                out.append(
                    Problem(
                        (*op, "options"),
                        "a group may only hold subcommands.",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    )
                )
            out += _check_options(sub, (*op, "options"), depth + 1)
            continue
        if opt.get("required"):
            if seen_optional:
                out.append(
                    Problem(
                        (*op, "required"),
                        "required options must be placed before non-required options.",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    )
                )
        else:
            seen_optional = True
        choices = opt.get("choices")
        if choices:
            if opt.get("autocomplete"):
                out.append(
                    Problem(
                        (*op, "autocomplete"),
                        "autocomplete cannot be used with choices.",
                        "AUTOCOMPLETE_CHOICES_INVALID",
                    )
                )
            if isinstance(choices, list):
                out += check_choices(choices, (*op, "choices"))
        lo, hi = opt.get("min_length"), opt.get("max_length")
        if isinstance(lo, int) and not 0 <= lo <= 6000:
            out.append(Problem((*op, "min_length"), "min_length must be 0..6000.", "BASE_TYPE_MAX"))
        if isinstance(hi, int) and not 1 <= hi <= 6000:
            out.append(Problem((*op, "max_length"), "max_length must be 1..6000.", "BASE_TYPE_MAX"))
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            out.append(
                Problem((*op, "min_length"), "min_length exceeds max_length.", "BASE_TYPE_MAX")
            )
        vlo, vhi = opt.get("min_value"), opt.get("max_value")
        if isinstance(vlo, int | float) and isinstance(vhi, int | float) and vlo > vhi:
            out.append(Problem((*op, "min_value"), "min_value exceeds max_value.", "BASE_TYPE_MAX"))
    return out


def check_command(cmd: Any, base: Path = ()) -> list[Problem]:
    if not isinstance(cmd, Mapping):
        return [Problem(base, "command must be an object.", "MODEL_TYPE_CONVERT")]
    out: list[Problem] = []
    ctype = cmd.get("type", 1) or 1
    name = cmd.get("name")
    if ctype == 1:
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name):
            out.append(
                Problem(
                    (*base, "name"),
                    f"command name {name!r} must match {COMMAND_NAME_RE.pattern}.",
                    "APPLICATION_COMMAND_INVALID_NAME",
                )
            )
        out += _required_text(
            (*base, "description"),
            cmd.get("description"),
            COMMAND_DESCRIPTION_MAX,
            "command description",
        )
        out += _check_options(cmd.get("options"), (*base, "options"), 0)
        total = _command_chars(cmd)
        if total > COMMAND_TOTAL_CHARS_MAX:
            out.append(
                Problem(
                    base,
                    f"command is {total} chars of names, descriptions and "
                    f"choices; must be {COMMAND_TOTAL_CHARS_MAX} or fewer.",
                    "APPLICATION_COMMAND_TOO_LARGE",
                )
            )
    elif ctype in (2, 3):
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            out.append(
                Problem(
                    (*base, "name"), "context menu name must be 1-32 chars.", "BASE_TYPE_BAD_LENGTH"
                )
            )
        if cmd.get("description"):
            out.append(
                Problem(
                    (*base, "description"),
                    "context menu commands cannot have a description.",
                    "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                )
            )
        if cmd.get("options"):
            out.append(
                Problem(
                    (*base, "options"),
                    "context menu commands cannot have options.",
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                )
            )
    else:
        out.append(
            Problem((*base, "type"), f"unknown command type {ctype!r}.", "BASE_TYPE_CHOICES")
        )
    return out


def check_command_list(cmds: Any) -> list[Problem]:
    """The body of a bulk overwrite (``PUT .../commands``)."""
    if not isinstance(cmds, list):
        return [Problem((), "body must be an array of commands.", "BASE_TYPE_ARRAY")]
    out: list[Problem] = []
    by_type: dict[Any, int] = {}
    seen: set[tuple[Any, Any]] = set()
    for i, cmd in enumerate(cmds):
        out += check_command(cmd, (i,))
        if isinstance(cmd, Mapping):
            key = (cmd.get("type", 1) or 1, cmd.get("name"))
            if key in seen:
                out.append(
                    Problem(
                        (i, "name"),
                        f"duplicate command name {key[1]!r}.",
                        "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    )
                )
            seen.add(key)
            by_type[key[0]] = by_type.get(key[0], 0) + 1
    if by_type.get(1, 0) > COMMANDS_PER_SCOPE_MAX:
        out.append(Problem((), f"more than {COMMANDS_PER_SCOPE_MAX} chat input commands."))
    for t in (2, 3):
        if by_type.get(t, 0) > 5:
            out.append(Problem((), f"more than 5 context menu commands of type {t}."))
    return out


def form_error_body(problems: Sequence[Problem]) -> JSON:
    """Discord's ``Invalid Form Body`` error for these problems (nested ``_errors``)."""
    errors: JSON = {}
    for pr in problems:
        node = errors
        for key in pr.path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": pr.code, "message": pr.message})
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}
