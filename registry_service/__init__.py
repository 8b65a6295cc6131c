"""Provides the registry service: FastAPI over the core's registry code, for kiosks (per-kiosk credentials) and phones."""
