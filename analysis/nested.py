"""Nested dicts (the instrument's texts, a plan's TOML) as one level of dotted keys."""
from __future__ import annotations


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; values that are not dicts are kept as they are.

    Parameters
    ----------
    d : dict
        A nested dict.
    prefix : str
        Prepended to every key (used in the recursion).

    >>> flatten({"ui": {"next": "Next", "back": "Back"}, "meta": 1})
    {'ui.next': 'Next', 'ui.back': 'Back', 'meta': 1}
    """
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
