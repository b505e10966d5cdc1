"""Spaced repetition of concept items with FSRS: every answer schedules the item's next review."""
