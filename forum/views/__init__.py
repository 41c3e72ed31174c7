"""Blueprints: thin views that parse input, call a service, render or serialize."""
