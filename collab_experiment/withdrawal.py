"""Personal withdrawal codes: shown at the debrief, unguessable, easy to read aloud.

Plain Python, no oTree. A code identifies nobody by itself; a researcher who receives
one can find and remove that participant's answers.
"""

import secrets

# No 0/O, 1/I/L: the code is copied by hand from a phone screen.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31**8 ≈ 8.5e11 codes


def new_code() -> str:
    """A fresh code, e.g. "K7QM-4XPA": 8 characters of `ALPHABET` drawn with `secrets`
    (cryptographic), a dash after the fourth. Not checked against codes already given:
    with 31**8 codes a repeat within a study is negligible."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str:
    """Upper-case, without spaces or dashes, so 'k7qm 4xpa' matches 'K7QM-4XPA'.

    Args:
        code: a code as a student or researcher typed it (anything; `str()` is applied).
            Every character but letters and digits is dropped; those the alphabet leaves
            out (0, 1, O, I, L) are kept, not mapped, so a misread code matches none.
    """
    return "".join(ch for ch in str(code).upper() if ch.isalnum())
