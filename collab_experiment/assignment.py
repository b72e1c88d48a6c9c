"""The assignment algorithm, under the app's name.

It lives in ``analysis/assignment.py`` (plain Python, no oTree) so that the design
diagnosis imports the very module the experiment assigns with; this module *is* that
module (same object), so patches and state are shared.
"""
import sys

from analysis import assignment as _assignment

sys.modules[__name__] = _assignment
