"""Telling people: in-app notifications and the e-mail outbox."""
