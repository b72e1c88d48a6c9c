"""Keep client IP addresses out of the server's log.

The server's access log (uvicorn) prints each client's address. Researchers promise
students that no IP address is collected, so the address is replaced before the line
is written. uvicorn's own messages (start-up, errors) get a handler too: oTree's
logging setup leaves that logger without one. Plain Python, no oTree; installed by
`otree_glue.install()`.
"""

import logging
import sys

HIDDEN = "-"


class HideClientAddress(logging.Filter):
    """uvicorn's access record has args (client_addr, method, path, http_version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the client's address in an access record by `HIDDEN`.

        record: a log record of the `uvicorn.access` logger; one whose args are not the
            access line's five-tuple is left as it is.
        Always returns True: the line is still written, without the address.
        """
        if isinstance(record.args, tuple) and len(record.args) == 5:
            record.args = (HIDDEN, *record.args[1:])
        return True


def install() -> None:
    """Add `HideClientAddress` to uvicorn's access logger, and a stderr handler
    (`LEVEL: message`) to its error logger when that has none.

    Safe to call again: the filter and the handler are each added only once. Must run
    before the server logs its first request.
    """
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideClientAddress) for f in access.filters):
        access.addFilter(HideClientAddress())
    errors = logging.getLogger("uvicorn.error")
    if not errors.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        errors.addHandler(handler)
