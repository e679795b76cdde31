"""Fixtures of the console tests; they live in console_env.py so that test modules can import its names
without `from conftest import`, which resolves to whichever tests/*/conftest.py was imported first
when the whole suite runs in one session."""
from console_env import *  # noqa: F401,F403  (pytest collects the fixtures from this namespace)
