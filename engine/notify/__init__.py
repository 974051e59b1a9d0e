"""Notifications that reach people: an outbox written with the change, a deliverer, channels, routing."""
