"""tunesmith: agent-guided model customization in the terminal."""

__version__ = "0.1.0"
