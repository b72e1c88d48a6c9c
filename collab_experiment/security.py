"""Unguessable participant codes.

oTree draws participant and session codes from `random.Random` (Mersenne Twister),
whose output can be predicted from enough earlier outputs. A participant code is the
key to a student's pages, so draw it from the operating system's cryptographic source
instead. Plain Python; `install()` runs when the app is imported, before any session
is created.
"""

import random


def install() -> None:
    import otree.common

    if not isinstance(otree.common.rng, random.SystemRandom):
        otree.common.rng = random.SystemRandom()
