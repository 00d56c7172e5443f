"""A package a conftest imports, for the plugin's end-to-end tests."""
