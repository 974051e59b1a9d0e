"""The runtime: findings, their one path of change, the audit chain and the database under them."""

# Wire the domain events' handlers once, whichever engine module is imported first (see engine.messagebus).
from engine import handlers as _handlers  # noqa: E402,F401
