"""Threads and the comments in them: writing, reading, votes, theories, spoilers, feeds, sites."""
