"""The root of every error txguard raises on purpose.

Each interface maps these once: the API to a 4xx JSON body naming the field, the CLI to a
message on stderr and exit code 2, the stream worker to its error policy. Anything that is
not a ``TxguardError`` is a bug and surfaces as one.

    TxguardError
    ├── InputError            bad input from a user or a file (CLI exit 2, HTTP 422)
    │   ├── DataFileError     (files) a data file that cannot be read as a transaction file
    │   └── RuleError         (domain.rules) a rule or watch list that cannot be saved or run
    ├── NotFoundError         a named thing does not exist (HTTP 404)
    ├── ConflictError         a change the current state does not allow (HTTP 409)
    ├── ConfigurationError    settings that cannot work (refuse to start)
    └── StorageError          (store) the database refused or could not be reached
"""


class TxguardError(Exception):
    """Base class of the errors txguard raises deliberately."""


class InputError(TxguardError):
    """Input that txguard refuses, with a message that says which field and why."""


class NotFoundError(TxguardError):
    """A model version, transaction, user or file that does not exist."""


class ConflictError(TxguardError):
    """A change refused because of the state things are in now, such as an illegal case move."""


class ConfigurationError(TxguardError):
    """A setting, or a combination of settings, that cannot work."""
