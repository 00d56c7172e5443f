"""Helpers the coverage comparison leaves unmeasured, standing in for library code."""
