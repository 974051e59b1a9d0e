"""Who is told what, through which channel: the notifications file (XUNCHA_NOTIFICATIONS), read and checked.

```yaml
channels:                       # named channels; secrets come from the environment or a file, never the database
  food-wecom: {type: wecom, url_env: XUNCHA_FOOD_WECOM_URL}
  leaders-mail: {type: email, host: smtp.example.edu.cn, port: 465, security: tls, user: xuncha@example.edu.cn,
                 password_env: XUNCHA_SMTP_PASSWORD, from: 巡查系统 <xuncha@example.edu.cn>}
  gad-ding: {type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=…", secret_env: XUNCHA_DING}
  campus-bus: {type: webhook, url: "https://bus.example.edu.cn/xuncha", secret_file: /etc/xuncha/bus.key}
  terminal: {type: file, path: outbox.log}            # relative to the instance folder
routes:                         # per unit (and the units below it) and role: a channel and an address
  - {unit: FOOD, role: centre, channel: food-wecom}
  - {role: leader, channel: leaders-mail, address: leaders@example.edu.cn}
  - {unit: "*", role: "*", channel: campus-bus}
users:                          # a person's own channel, and the kinds they do not want (essential ones always go)
  student.2023001: {channel: leaders-mail, address: lin@stu.example.edu.cn}
  chen.ming: {opt_out: [reminder, commendation]}
digest: {at: "08:30", min_items: 3}
deliver: {max_attempts: 8, backoff: 30, max_backoff: 3600, lease: 300, batch: 50, timeout: 10}
```"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

import yaml

from engine.errors import InvalidInput

log = logging.getLogger(__name__)
CHANNEL_TYPES = ("email", "wecom", "dingtalk", "webhook", "file")
KINDS = ("assigned", "reminder", "overdue", "escalated", "verified", "sanction", "commendation", "receipt",
         "digest", "briefing")
ESSENTIAL = frozenset({"assigned", "overdue", "escalated", "sanction"})  # nobody may opt out of these
ANY = "*"
SECRET_KEYS = ("url", "secret", "password")  # each may also be given as KEY_env or KEY_file


@dataclass(frozen=True)
class Route:
    unit: str  # unit code, or "*" for every unit
    role: str  # a workflow role, or "*" for every audience
    channel: str
    address: str | None = None


@dataclass(frozen=True)
class UserRoute:
    channel: str | None = None
    address: str | None = None
    opt_out: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Digest:
    at: time = time(8, 30)
    min_items: int = 3


@dataclass(frozen=True)
class Delivery:
    max_attempts: int = 8
    backoff: float = 30.0  # seconds before the first retry; doubles each time, with jitter
    max_backoff: float = 3600.0
    lease: float = 300.0  # a claim older than this is taken to belong to a dead deliverer
    batch: int = 50
    timeout: float = 10.0  # per send


@dataclass(frozen=True)
class Config:
    channels: dict[str, dict] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    users: dict[str, UserRoute] = field(default_factory=dict)
    digest: Digest | None = None
    deliver: Delivery = Delivery()
    base: Path = Path(".")  # relative paths (a file channel, a secret file) are read from here

    @property
    def active(self) -> bool:
        return bool(self.routes or any(u.channel for u in self.users.values()))


EMPTY = Config()


def parse(text: str, *, source: str = "notifications.yaml", base: Path = Path(".")) -> Config:
    """The configuration in `text`; InvalidInput names the file and the field at fault."""
    try:
        tree = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not YAML: {exc}") from None
    problems: list[str] = []
    if not isinstance(tree, dict):
        raise InvalidInput(f"{source}: expected a mapping with channels, routes, users, digest, deliver")
    for key in set(tree) - {"channels", "routes", "users", "digest", "deliver"}:
        problems.append(f"{key}: unknown section")
    channels = _channels(tree.get("channels") or {}, problems)
    routes = _routes(tree.get("routes") or [], channels, problems)
    users = _users(tree.get("users") or {}, channels, problems)
    digest = _digest(tree.get("digest"), problems)
    deliver = _deliver(tree.get("deliver") or {}, problems)
    if problems:
        raise InvalidInput(f"{source}: " + "; ".join(problems))
    return Config(channels, routes, users, digest, deliver, base)


def load(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from None
    return parse(text, source=str(path), base=path.parent)


_cache: dict[str, tuple[float, Config]] = {}


def config_for(store) -> Config:
    """The store's configuration: one given with `use`, else XUNCHA_NOTIFICATIONS, else
    <instance>/notifications.yaml if it exists, else none (nothing is queued). Re-read when the file changes."""
    given = getattr(store, "notify_config", None)
    if given is not None:
        return given
    path = config_path(store)
    if path is None:
        return EMPTY
    mtime = path.stat().st_mtime
    cached = _cache.get(str(path))
    if cached is None or cached[0] != mtime:
        try:
            cached = (mtime, load(path))
        except InvalidInput:
            if cached is None:
                raise
            # An edit gone wrong must not stop every change to every finding: keep telling people as the
            # file said before, and say loudly what is wrong with it (`xuncha notify` reports it too).
            log.error("notifications file not reloaded, the previous one stays in force", exc_info=True)
            cached = (mtime, cached[1])
        _cache[str(path)] = cached
    return cached[1]


def config_path(store) -> Path | None:
    named = os.environ.get("XUNCHA_NOTIFICATIONS")
    if named:
        return Path(named)
    if store.instance is not None and (Path(store.instance) / "notifications.yaml").is_file():
        return Path(store.instance) / "notifications.yaml"
    return None


def use(store, config: Config | None) -> None:
    """Give the store a configuration directly (tests, the demo); None goes back to the file."""
    store.notify_config = config


def secret(spec: dict, key: str, base: Path) -> str | None:
    """A channel's secret: `key` itself, or the variable named by `key_env`, or the file named by `key_file`."""
    if spec.get(key):
        return str(spec[key])
    if spec.get(f"{key}_env"):
        value = os.environ.get(spec[f"{key}_env"])
        if not value:
            raise InvalidInput(f"environment variable {spec[f'{key}_env']} (for {key}) is not set")
        return value
    if spec.get(f"{key}_file"):
        path = base / Path(spec[f"{key}_file"]).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidInput(f"cannot read {key}_file {path}: {exc}") from None
    return None


REQUIRED = {"email": ("host",), "wecom": ("url",), "dingtalk": ("url",), "webhook": ("url",), "file": ("path",)}


def _channels(raw, problems: list[str]) -> dict[str, dict]:
    if not isinstance(raw, dict):
        problems.append("channels: expected a mapping of name to channel")
        return {}
    out = {}
    for name, spec in raw.items():
        where = f"channels.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        kind = spec.get("type")
        if kind not in CHANNEL_TYPES:
            problems.append(f"{where}.type: must be one of {', '.join(CHANNEL_TYPES)}")
            continue
        for key in REQUIRED[kind]:
            if not any(spec.get(k) for k in (key, f"{key}_env", f"{key}_file")):
                problems.append(f"{where}.{key}: required")
        if kind == "email":
            if spec.get("security", "starttls") not in ("starttls", "tls", "none"):
                problems.append(f"{where}.security: must be starttls, tls or none")
            if not spec.get("from"):
                problems.append(f"{where}.from: required")
        if kind in ("dingtalk", "webhook") and not any(spec.get(k) for k in ("secret", "secret_env", "secret_file")):
            if kind == "webhook":
                problems.append(f"{where}.secret: required (the receiver checks the signature with it)")
        out[str(name)] = dict(spec)
    return out


def _routes(raw, channels: dict, problems: list[str]) -> tuple[Route, ...]:
    if not isinstance(raw, list):
        problems.append("routes: expected a list")
        return ()
    out = []
    for i, spec in enumerate(raw):
        where = f"routes[{i}]"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected a mapping with unit, role, channel, address")
            continue
        if unknown := sorted(set(spec) - {"unit", "role", "channel", "address"}):
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        channel = spec.get("channel")
        if channel not in channels:
            problems.append(f"{where}.channel: no channel named {channel!r}")
            continue
        if channels[channel]["type"] == "email" and not spec.get("address"):
            problems.append(f"{where}.address: an email channel needs an address")
            continue
        out.append(Route(str(spec.get("unit", ANY)), str(spec.get("role", ANY)), channel, spec.get("address")))
    return tuple(out)


def _users(raw, channels: dict, problems: list[str]) -> dict[str, UserRoute]:
    if not isinstance(raw, dict):
        problems.append("users: expected a mapping of user name to channel, address, opt_out")
        return {}
    out = {}
    for name, spec in raw.items():
        where = f"users.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        channel = spec.get("channel")
        if channel is not None and channel not in channels:
            problems.append(f"{where}.channel: no channel named {channel!r}")
            continue
        if channel and channels[channel]["type"] == "email" and not spec.get("address"):
            problems.append(f"{where}.address: an email channel needs an address")
        opt_out = spec.get("opt_out") or []
        if not isinstance(opt_out, list) or any(k not in KINDS for k in opt_out):
            problems.append(f"{where}.opt_out: a list of kinds from {', '.join(KINDS)}")
            continue
        if essential := sorted(set(opt_out) & ESSENTIAL):
            problems.append(f"{where}.opt_out: {', '.join(essential)} cannot be turned off")
            continue
        out[str(name)] = UserRoute(channel, spec.get("address"), frozenset(opt_out))
    return out


def _digest(raw, problems: list[str]) -> Digest | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("digest: expected {at: HH:MM, min_items: N}")
        return None
    at = str(raw.get("at", "08:30"))
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        problems.append(f"digest.at: {at!r} is not a campus time HH:MM")
        return None
    items = raw.get("min_items", 3)
    if not isinstance(items, int) or isinstance(items, bool) or items < 1:
        problems.append("digest.min_items: a whole number from 1")
        return None
    return Digest(time.fromisoformat(at), items)


def _deliver(raw, problems: list[str]) -> Delivery:
    if not isinstance(raw, dict):
        problems.append("deliver: expected a mapping")
        return Delivery()
    values = {}
    for key, default in Delivery().__dict__.items():
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append(f"deliver.{key}: a positive number")
            continue
        values[key] = type(default)(value)
    for key in set(raw) - set(Delivery().__dict__):
        problems.append(f"deliver.{key}: unknown setting")
    return Delivery(**values)
