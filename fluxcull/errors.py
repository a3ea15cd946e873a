"""The errors fluxcull raises on purpose, and how the command line reports them.

`FluxcullError` is the base of every error fluxcull raises deliberately. `UserError` (and its
subclasses) is one a person can act on: the CLI prints it as one line ``fluxcull: error: ...`` and
exits 2. Anything else that escapes a command is a bug: the CLI prints its traceback, logs it and
exits 3, so a bug never looks like bad input.

The subclasses that also derive from a built-in (`NotFound` is a `KeyError`, `InvalidValue` a
`ValueError`, `Unavailable` a `LookupError`) keep existing ``except`` clauses working.
"""

from __future__ import annotations


class FluxcullError(Exception):
    """Base of the errors fluxcull raises deliberately."""

    def __str__(self) -> str:  # KeyError would quote its message; one plain line everywhere
        return str(self.args[0]) if self.args else self.__class__.__name__


class UserError(FluxcullError):
    """Bad input, a missing prerequisite or a damaged file: reported in one line, exit status 2."""


class InvalidValue(UserError, ValueError):
    """An option, argument or setting with a value fluxcull cannot use."""


class NotFound(UserError, KeyError):
    """A photo, model version or file that is not there."""


class Unavailable(UserError, LookupError):
    """Something needed first (embeddings, a model, a backbone's weights) is missing."""


class CatalogError(UserError):
    """The catalog cannot be used: damaged, read-only, newer than this fluxcull, or not a catalog."""


class LibraryBusy(UserError):
    """Another job is running on this library (the message names its PID, command and start)."""


class StoreDamaged(UserError):
    """The embedding store does not match its index (missing, short or changed rows)."""


class MissingPath(UserError, FileNotFoundError):
    """A file or folder named by the user does not exist."""
