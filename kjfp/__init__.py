"""Composition root: run the services (embedded or one per process), mint tokens, load samples."""
