"""Fixtures for the core tests."""
