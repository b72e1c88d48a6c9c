"""`otree prodserver` with every SQL statement the server process sends written to a log
(tests only: `tests/test_statements.py` counts the statements of each page turn).

    SQL_LOG=/tmp/sql.log python tests/sql_counting_server.py 127.0.0.1:8000   # in a project folder

One line per statement (its SQL, whitespace collapsed) and `COMMIT` per commit, written
before the response leaves the server, so a client that counts the lines before and after
a request counts that request's statements. The timeout worker is a process of its own
and is not counted.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.getcwd())  # as the `otree` command finds the project's settings
sys.argv = ["otree", "prodserver", *sys.argv[1:]]

import otree.database  # noqa: E402  (creates the engine from DATABASE_URL)
from sqlalchemy import event  # noqa: E402

_log = open(os.environ["SQL_LOG"], "a", buffering=1)


@event.listens_for(otree.database.engine, "before_cursor_execute")
def _statement(conn, cursor, statement, parameters, context, executemany):
    _log.write(" ".join(str(statement).split()) + "\n")


@event.listens_for(otree.database.engine, "commit")
def _commit(conn):
    _log.write("COMMIT\n")


if __name__ == "__main__":
    from otree.main import execute_from_command_line

    execute_from_command_line()
