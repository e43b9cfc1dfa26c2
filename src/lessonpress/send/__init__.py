"""Delivering lessons: the subscriber list, the ledger, SMTP and email courses."""
