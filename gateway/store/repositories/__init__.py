"""Repositories: the only code that queries the database. Each takes a ``Session`` in a transaction."""
