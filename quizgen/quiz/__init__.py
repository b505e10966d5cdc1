"""Concept items: scoring answers and the interactive terminal session."""
