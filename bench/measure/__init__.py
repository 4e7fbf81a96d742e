"""Benchmarks of ukc next to its peers; see __main__.py."""
