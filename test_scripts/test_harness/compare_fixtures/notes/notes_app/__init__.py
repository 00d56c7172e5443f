"""A tiny async SQLAlchemy app for compare's end-to-end tests (see check_notes.py)."""
