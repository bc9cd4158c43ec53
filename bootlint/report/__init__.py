"""Reporters: each turns a run's findings into text in one format."""
