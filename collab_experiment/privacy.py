"""Keep client IP addresses out of the server's log.

The server's access log (uvicorn) prints each client's address. Researchers promise
students that no IP address is collected, so the address is replaced before the line
is written. Plain Python, no oTree; installed when the app is imported.
"""

import logging

HIDDEN = "-"


class HideClientAddress(logging.Filter):
    """uvicorn's access record has args (client_addr, method, path, http_version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            record.args = (HIDDEN, *record.args[1:])
        return True


def install() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideClientAddress) for f in logger.filters):
        logger.addFilter(HideClientAddress())
