"""Rendering of results for people: terminal tables and progress, Markdown, JSON. Takes plain results."""
