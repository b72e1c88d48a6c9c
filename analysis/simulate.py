"""A data-generating process that writes export-shaped data with known effects.

It mimics the real study (sessions = classes, stratified permuted blocks within
session x programme, consent, drop-out, demo and bot rows, withdrawal codes) so that
the same analysis code runs on simulated and on real data: tests, benchmarks and
design diagnosis (power) call :func:`simulate_study` and then the estimators.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .contract import (AFTER_CHECKS, BOOL_COLUMNS, CATEGORIES, CHECKS, CUSTOM_EXTRAS,
                       DECLINER_KEEPS, DONT_KNOW, EFFECT_OUTCOMES, IDENTITY, INSTRUMENT_VERSION,
                       OWN_PROFESSION, PROGRAMMES, RATED_SCALES, SCALES, TIDY_COLUMNS)



@dataclass
class Truth:
    """Effects injected on the latent 1-7 scale (before rounding and clipping).

    ``manager`` is trust - control, ``partner`` is other - same, ``interaction`` the
    difference of conditional manager effects (other - same); keys are outcome scales.
    """

    manager: dict[str, float] = field(default_factory=lambda: {
        "attractiveness": 0.5, "trust_manager": 0.6, "autonomy": 0.8, "collaboration": 0.0})
    partner: dict[str, float] = field(default_factory=lambda: {
        "attractiveness": 0.0, "trust_manager": 0.0, "autonomy": 0.0, "collaboration": -0.4})
    interaction: dict[str, float] = field(default_factory=lambda: {
        "attractiveness": 0.0, "trust_manager": 0.0, "autonomy": 0.0, "collaboration": 0.2})


def _codes(rng: np.random.Generator, n: int) -> np.ndarray:
    alphabet = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, 8))]
    return np.array(["".join(r[:4]) + "-" + "".join(r[4:]) for r in chars])


def simulate_study(n: int, seed: int = 1, truth: Truth | None = None,
                   class_size: int = 60, block_size: int = 4, p_consent: float = 0.92,
                   p_complete: float = 0.93, n_demo: int = 3,
                   programme_p: tuple[float, ...] = (0.3, 0.3, 0.15, 0.15, 0.1),
                   ) -> pd.DataFrame:
    """Simulate a study as the project's custom export (tidy columns + extras).

    Parameters
    ----------
    n : int
        Participants who open the link (demo/bot rows are added on top).
    seed : int
        Seed for NumPy's generator; the same seed gives the same data.
    truth : Truth, optional
        Effects to inject; :class:`Truth` defaults when omitted.
    class_size : int
        Students per session (sessions are classes).
    block_size : int
        Assignment block size (4 or 8).
    p_consent : float
        Probability that a student consents.
    p_complete : float
        Probability that an assigned student completes.
    n_demo : int
        Rows added as a demo session (``is_demo``; the analysis drops them).
    programme_p : tuple of float
        Probabilities of the programmes, in contract order.

    Returns
    -------
    DataFrame
        Custom-export-shaped data; :func:`to_wide` turns it into oTree's wide export.
    """
    truth = truth or Truth()
    rng = np.random.default_rng(seed)
    n_sessions = max(1, int(np.ceil(n / class_size)))
    session = np.sort(rng.integers(0, n_sessions, size=n))
    session_codes = np.array([f"s{seed % 1000:03d}{i:05d}" for i in range(n_sessions)])
    site_of_session = rng.choice(["oslo", "aarhus"], size=n_sessions)
    lang_of_session = np.where(site_of_session == "oslo", "nb", "da")
    df = pd.DataFrame({
        "participant_code": [f"p{seed % 1000:03d}{i:07d}" for i in range(n)],
        "session_code": session_codes[session],
        "site": site_of_session[session],
        "language": np.where(rng.random(n) < 0.1, "en", lang_of_session[session]),
        "instrument_version": INSTRUMENT_VERSION,
    })
    consented = rng.random(n) < p_consent
    prog = np.array(PROGRAMMES)[rng.choice(len(PROGRAMMES), size=n, p=programme_p)]
    # Stratified permuted blocks within session x programme, in arrival order.
    stratum_key = pd.Series(session.astype(np.int64) * 10 + pd.Categorical(prog, PROGRAMMES).codes)
    stratum_key[~consented] = -1
    pos = stratum_key.groupby(stratum_key).cumcount().to_numpy()
    block = pos // block_size
    _, block_idx = np.unique(np.stack([stratum_key.to_numpy(), block]), axis=1, return_inverse=True)
    block_idx = block_idx.ravel()
    perms = np.argsort(rng.random((block_idx.max() + 1, block_size)), axis=1) % 4
    cell = perms[block_idx, pos % block_size]
    manager = np.where(cell < 2, "trust", "control")
    partner = np.where(cell % 2 == 0, "same", "other")
    other_prof = np.where(prog == "nursing", "teacher",
                          np.where(prog == "teacher", "nurse",
                                   rng.choice(["nurse", "teacher"], size=n)))
    own_prof = pd.Series(prog).map(OWN_PROFESSION).to_numpy()
    df["consented"] = consented.astype(int)
    df["assigned"] = consented.astype(int)
    completed = consented & (rng.random(n) < p_complete)
    df["completed"] = completed.astype(int)
    df["withdrawn"] = 0
    df["last_page"] = np.where(completed, "Debrief",
                               np.where(consented, rng.choice(["Vignette", "Outcomes", "Checks"], size=n),
                                        "Consent"))
    df["timed_out_pages"] = ""
    df["programme"] = prog
    df["manager"] = manager
    df["partner"] = partner
    df["partner_profession"] = np.where(partner == "same", own_prof, other_prof)
    df["stratum"] = prog
    df["block"] = block + 1
    df["block_position"] = pos % block_size + 1
    df["assignment_probability"] = 0.25
    df["assigned_at"] = "2026-09-01T10:00:00Z"
    df["assignment_version"] = "1"
    df["programme_level"] = rng.choice(list(CATEGORIES["programme_level"]), size=n, p=[0.8, 0.15, 0.05])
    df["year_of_study"] = rng.integers(1, 5, size=n)
    df["age_band"] = rng.choice(["le21", "22_24", "25_29", "30_39", "ge40"], size=n,
                                p=[0.35, 0.3, 0.15, 0.12, 0.08])
    df["gender"] = rng.choice(["woman", "man", "other", "no_answer", ""], size=n,
                              p=[0.6, 0.3, 0.02, 0.03, 0.05])
    df["municipal_experience"] = rng.choice(["none", "lt6m", "6_24m", "gt2y"], size=n)
    psm_trait = rng.normal(0, 1, n)
    for item in SCALES["psm"]:
        df[item] = np.clip(np.rint(5 + 0.9 * psm_trait + rng.normal(0, 0.9, n)), 1, 7).astype(int)
    attention = np.where(rng.random(n) < 0.85, 3, rng.integers(1, 8, size=n))
    df["psm"] = np.nan
    df["attention_pass"] = (attention == 3).astype(int)
    t_m = (manager == "trust").astype(float)
    t_p = (partner == "other").astype(float)
    general = rng.normal(0, 0.6, n)
    for scale in EFFECT_OUTCOMES:
        mu = (4.0 + truth.manager.get(scale, 0) * (t_m - 0.5)
              + truth.partner.get(scale, 0) * (t_p - 0.5)
              + truth.interaction.get(scale, 0) * (t_m - 0.5) * (t_p - 0.5)
              + 0.3 * psm_trait + general + rng.normal(0, 0.6, n))
        for item in SCALES[scale]:
            df[item] = np.clip(np.rint(mu + rng.normal(0, 0.8, n)), 1, 7).astype(int)
        df[scale] = np.nan
    mc_ok = rng.random((n, 2)) < 0.85
    df["mc_manager"] = np.where(mc_ok[:, 0], manager, rng.choice(list(CATEGORIES["mc_manager"]), size=n))
    df["mc_partner"] = np.where(mc_ok[:, 1], partner, rng.choice(list(CATEGORIES["mc_partner"]), size=n))
    df["mc_manager_correct"] = (df["mc_manager"] == manager).astype(int)
    df["mc_partner_correct"] = (df["mc_partner"] == partner).astype(int)
    df["realism"] = np.clip(np.rint(5 + rng.normal(0, 1.2, n)), 1, 7).astype(int)
    # Management and public administration students were taught the trust reforms.
    taught = np.where(np.isin(prog, ["management", "public_admin"]), 0.7, 0.3)
    df["taught_tbm"] = np.where(rng.random(n) < taught, rng.choice(["some", "much"], size=n),
                                rng.choice(["none", "little", DONT_KNOW], size=n))
    df["scale_order"] = [",".join(rng.permutation(RATED_SCALES)) for _ in range(n)]
    df["seconds_vignette"] = np.round(rng.gamma(4, 12, n), 1)
    df["seconds_total"] = np.round(df["seconds_vignette"] + rng.gamma(9, 30, n), 1)
    df["withdrawal_code"] = _codes(rng, n)
    df["is_demo"] = 0
    df["is_bot"] = 0
    df["campus"] = df["site"]
    df["consent_version"] = "1.0"
    df["attention"] = attention
    order = {s: list(SCALES[s]) for s in RATED_SCALES}
    df["item_order"] = json.dumps(order)
    df["block_size"] = block_size
    df["seed"] = ""
    # Blank what a person never reached: decliners have nothing beyond consent;
    # drop-outs miss a random tail of the outcome items and the checks.
    post = [c for c in TIDY_COLUMNS if c not in (*DECLINER_KEEPS, *IDENTITY)]
    post += ["withdrawal_code", "campus", "attention", "block_size"]
    df = df.astype({c: object for c in post})
    df.loc[~consented, post] = ""
    df.loc[~consented, "assigned"] = 0
    dropout = consented & ~completed
    items = [i for s in EFFECT_OUTCOMES for i in SCALES[s]]
    reached = rng.integers(0, len(items) + 1, size=n)
    for k, item in enumerate(items):
        df.loc[dropout & (reached <= k), item] = ""
    for c in (*CHECKS, *AFTER_CHECKS, "seconds_total", "withdrawal_code"):
        df.loc[dropout, c] = ""
    if n_demo:
        demo = df.iloc[:n_demo].copy()
        demo["participant_code"] = [f"demo{i}" for i in range(n_demo)]
        demo["is_demo"] = 1
        df = pd.concat([df, demo], ignore_index=True)
    return df[[*TIDY_COLUMNS, *CUSTOM_EXTRAS]]


def to_wide(custom: pd.DataFrame) -> pd.DataFrame:
    """Rewrite a simulated custom export as oTree's all-apps-wide export."""
    out = pd.DataFrame({
        "participant.id_in_session": np.arange(1, len(custom) + 1),
        "participant.code": custom["participant_code"],
        "participant.label": "",
        "participant._is_bot": custom["is_bot"],
        "participant._index_in_pages": 0,
        "participant._max_page_index": 12,
        "participant._current_app_name": np.where(custom["completed"].astype(str) == "1",
                                                  "collab_experiment", "consent"),
        "participant._current_page_name": custom["last_page"],
        "participant.time_started_utc": "2026-09-01 10:00:00",
        "session.code": custom["session_code"],
        "session.label": "",
        "session.is_demo": custom["is_demo"],
        "session.config.name": "collab_experiment",
        "session.config.site": custom["site"],
        "session.config.language": custom["language"],
        "session.config.block_size": 4,
        "consent.1.player.id_in_group": 1,
        "consent.1.player.role": "",
        "consent.1.player.payoff": 0,
        "consent.1.player.consented": custom["consented"],
        "consent.1.player.consent_version": custom["consent_version"],
        "consent.1.player.language": custom["language"],
        "consent.1.player.age_confirmed": custom["consented"],
        "consent.1.group.id_in_subsession": 1,
        "consent.1.subsession.round_number": 1,
    })
    fields = [c for c in TIDY_COLUMNS if c not in (
        "participant_code", "session_code", "consented", "assigned", "withdrawn", "last_page",
        "psm", *EFFECT_OUTCOMES)]
    fields += ["campus", "attention", "block_size", "withdrawal_code"]
    pre = "collab_experiment.1.player."
    for f in fields:
        col = custom[f]
        if f in BOOL_COLUMNS:  # oTree writes booleans as 1/0; mix in True/False too
            col = col.astype(str).replace({"1": "True", "0": "False"}) if f == "completed" else col
        out[pre + f] = col
    consented = custom["consented"].astype(str) == "1"
    for c in [c for c in out.columns if c.startswith(pre)]:
        out.loc[~consented, c] = ""
    out["collab_experiment.1.player.id_in_group"] = 1
    out["collab_experiment.1.player.payoff"] = 0
    out["collab_experiment.1.group.id_in_subsession"] = 1
    out["collab_experiment.1.subsession.round_number"] = 1
    return out
