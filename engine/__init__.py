"""The runtime: findings, their one path of change, the audit chain and the database under them."""
