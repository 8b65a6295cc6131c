"""Provides the kiosk's own widgets: QR code, step indicator, keypad."""
