"""Detector templates and their builders (importing this package imports no torch)."""
