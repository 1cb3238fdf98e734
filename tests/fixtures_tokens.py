"""Fixtures for the tokens tests."""
