"""Exception types sparkmed raises for bad input, so callers (and the job's exit codes) can tell them apart."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input data or parameters, detected before any clustering work starts.

    The message names the offending column, row, parameter or key. The job maps it to exit code 2.
    """
