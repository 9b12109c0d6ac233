"""Versioned object storage: one global revision, an event log for watch, group commit."""
