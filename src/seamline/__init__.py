"""Seamline: one connected customer experience on one self-hosted foundation."""

__version__ = "0.1.0"
