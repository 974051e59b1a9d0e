"""The peer for the benchmark: a Django model driven by django-fsm-2, its transitions logged by django-fsm-log."""
