"""The localstripe fixtures live in tests/conftest.py, shared with the other suites."""
