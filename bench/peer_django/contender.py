"""Configure Django on a database of its own and advance peer findings, one transaction per advance."""
from __future__ import annotations

import django
from django.conf import settings


def configure(db: dict) -> None:
    """`db` is a Django DATABASES['default'] entry; Django can be configured once per process."""
    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        TIME_ZONE="UTC",
        SECRET_KEY="bench-only",  # noqa: S106 - never serves a request
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_fsm_log",
                        "peer_django.apps.PeerConfig"],
        DATABASES={"default": db},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()


def sqlite_db(path: str) -> dict:
    # Same settings as the engine's SQLite connections: WAL, synchronous=NORMAL, write lock at BEGIN.
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path,
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30,
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}


def postgresql_db(name: str, host: str, port: int, user: str, password: str | None) -> dict:
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "HOST": host, "PORT": port,
            "USER": user, "PASSWORD": password or "", "CONN_MAX_AGE": None}


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


class Peer:
    """`count` findings in `rectifying`, each moved by `advance(i, event, payload, comment)`."""

    def __init__(self, count: int):
        from django.contrib.auth.models import User

        from peer_django.models import Finding

        self.model = Finding
        self.users = {name: User.objects.get_or_create(username=name)[0] for name in ("inspector", "food")}
        Finding.objects.bulk_create([
            Finding(title=f"peer finding {i}", category="hygiene", location="canteen 1", unit="FOOD",
                    state="rectifying") for i in range(count)])
        self.ids = list(Finding.objects.order_by("id").values_list("id", flat=True))

    def advance(self, index: int, event: str, payload: dict, comment: str | None, actor: str) -> None:
        from django.db import transaction

        with transaction.atomic():
            finding = self.model.objects.select_for_update().get(pk=self.ids[index])
            getattr(finding, event)(**payload, by=self.users[actor], description=comment)
            finding.save()

    def log_rows(self) -> int:
        from django_fsm_log.models import StateLog

        return StateLog.objects.count()


def close() -> None:
    from django.db import connections

    connections.close_all()
