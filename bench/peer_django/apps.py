"""Django app config of the benchmark's peer."""
from django.apps import AppConfig


class PeerConfig(AppConfig):
    name = "peer_django"
    default_auto_field = "django.db.models.BigAutoField"
