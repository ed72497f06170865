"""Reproducibility artifact for "To Compress, or Not to Compress" (ISPA 2018)."""

__version__ = "0.1.0"
