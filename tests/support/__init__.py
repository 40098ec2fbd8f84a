"""Test doubles shared by the pytest suite (not shipped)."""
