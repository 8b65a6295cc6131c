"""Provides nothing but a name: this folder is installed as the package kiosk.config, the kiosk's embedded data."""
