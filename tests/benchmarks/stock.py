"""The stock oTree baseline that benchmarks measure beside ours, in the same run.

A one-app oTree project written into a temporary folder: oTree's own page template
(Bootstrap, jQuery, `{{ formfields }}`, `{{ next_button }}`) and nothing of ours.
"""

from __future__ import annotations

import pathlib

SETTINGS = '''
SESSION_CONFIGS = [dict(name="stock", app_sequence=["stock"], num_demo_participants=1)]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.0, participation_fee=0.0, doc="")
PARTICIPANT_FIELDS = []
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
ADMIN_USERNAME = "admin"
SECRET_KEY = "bench-only"
'''


def write_project(folder: pathlib.Path, app_source: str, templates: dict[str, str]) -> pathlib.Path:
    """Write settings, the app `stock` (its `__init__.py` and one template per page) and
    an empty `_static/`; return the project folder, ready for `otree prodserver`."""
    app = folder / "stock"
    app.mkdir(parents=True)
    (folder / "_static").mkdir(exist_ok=True)
    (folder / "settings.py").write_text(SETTINGS)
    (app / "__init__.py").write_text(app_source)
    for page, template in templates.items():
        (app / f"{page}.html").write_text(template)
    return folder
