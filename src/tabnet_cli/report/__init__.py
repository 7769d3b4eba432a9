"""Showing what happens: progress bars and logs, JSON events, tables and terminal plots."""
