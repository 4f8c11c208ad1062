"""The version of tinygraph (read by setup.cfg without importing the package)."""

__version__ = "0.2.0"
