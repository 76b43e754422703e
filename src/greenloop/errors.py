"""Typed exceptions. Each carries what the run records and how the CLI exits."""

from __future__ import annotations


class GreenloopError(Exception):
    """Base class. `exit_code` is what the CLI returns when this ends a run."""

    exit_code = 1


class UsageError(GreenloopError):
    """Bad input or configuration: a one-line message that names the fix."""

    exit_code = 2


class ConfigError(UsageError):
    """The settings cannot be resolved (unknown key, wrong type, missing secret)."""


class ModelUnavailable(UsageError):
    """The model cannot be reached or loaded before the run starts."""


class ModelError(GreenloopError):
    """A model call failed during the run (after retries)."""


class FormatError(GreenloopError):
    """A reply could not be turned into edits. The message goes back to the model."""


class EditError(GreenloopError):
    """An edit did not apply (SEARCH not found, ambiguous hunk). Message goes back to the model."""


class GuardrailViolation(GreenloopError):
    """A file the reply names may not be written."""


class BudgetExceeded(GreenloopError):
    """A call or token budget is spent; the run ends cleanly as `failed`."""


class ScriptExhausted(ModelError):
    """A scripted model has no reply left."""


class GitError(UsageError):
    """A git operation was refused or failed; the message says what to do."""
