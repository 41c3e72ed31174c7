"""Keeping a discussion healthy: decisions, flags, bans, thread controls, queues, rules."""
