"""Provides the technicians' maintenance screens: the login, the console with its seven pages, and the confirmation dialog."""
