"""A dry-run class through the real apps, then its results page: `otree test dryrun N
--export DIR` run in this process, so the bots' session is still in the (in-memory)
database afterwards, and the class results page is rendered for it exactly as the view
renders it (`class_results_view.page`, the function behind /ClassResults/<code>).

Run in a copy of the project with OTREE_DRYRUN=1 (the dry-run session config exists only then):

    OTREE_DRYRUN=1 python PATH/TO/tests/class_results_dryrun.py N DIR

Writes DIR/collab_experiment_custom.csv (the export) and DIR/class_results.html. Used by
tests/test_class_results.py, the benchmark and the README's screenshot.
"""
from __future__ import annotations

import os
import pathlib
import sys


def main(n: int, out: pathlib.Path) -> None:
    sys.path.insert(0, os.getcwd())  # the project copy's settings and apps
    import otree.bots.runner as runner

    codes = []
    original = runner.run_bots

    def run_and_keep(session_id, case_number=None):
        original(session_id, case_number=case_number)
        from otree.models import Session

        codes.append(Session.objects_get(id=session_id).code)

    runner.run_bots = run_and_keep  # the bots' session code, for the page afterwards
    sys.argv[:] = ["otree", "test", "dryrun", str(n), "--export", str(out)]
    from otree.main import execute_from_command_line

    execute_from_command_line()

    from otree.models import Session

    from collab_experiment import class_results_view

    [code] = codes
    session = Session.objects_get(code=code)
    page = class_results_view.page(session, anyway=False, url=f"/ClassResults/{code}")
    (out / "class_results.html").write_text(page, encoding="utf-8")
    (out / "session_code.txt").write_text(code, encoding="utf-8")


if __name__ == "__main__":
    main(int(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve())
