"""Fixtures for the oauth tests."""
