"""Helpers of bench/speed.py: the dataset, the servers, the load and the report."""
