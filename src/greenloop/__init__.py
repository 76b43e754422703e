"""greenloop: a test-driven code generation agent.

Importing this package has no side effects: no files are read, no models loaded.
"""

__version__ = "0.1.0"
PROMPT_VERSION = "2026-12-06.2"

__all__ = ["__version__", "PROMPT_VERSION"]
