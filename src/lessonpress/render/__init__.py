"""Turning a Site into files: themes, pages, feeds, emails and their plain text."""
