"""Bots: every programme × cell × language, the decline path, and each kind of bad input.

Bots move in lockstep (oTree runs them round-robin, one page each per round), and every
consenting bot makes the same submissions before the programme page, so within a
programme they arrive in id order. Each run of four consecutive arrivals of a programme
fills one block, and it shares one language: every block covers all four cells, so
every programme × cell × language occurs once a programme has three full blocks.
"""

import random

from otree.api import Bot, Submission, SubmissionMustFail, expect

from analysis import contract

from . import (
    SCALE_PAGES, AboutYou, Checks, Debrief, LastQuestions, Motivation, Programme, Vignette,
    assignment, otree_glue, scale_at, texts,
)

LANGUAGE_CYCLE = ("en", "nb", "da")
DECLINE_EVERY = 12


def case_for(id_in_session: int) -> dict:
    """The plan for one bot, derived from its id alone (so both apps agree)."""
    declines = id_in_session % DECLINE_EVERY == 0
    programme = assignment.PROGRAMMES[(id_in_session - 1) % len(assignment.PROGRAMMES)]
    earlier = [
        i for i in range(1, id_in_session)
        if i % DECLINE_EVERY and assignment.PROGRAMMES[(i - 1) % 5] == programme
    ]
    block = len(earlier) // 4
    levels = list(contract.ANSWER_CODES["programme_level"])
    taught = list(contract.ANSWER_CODES["taught_tbm"])
    return dict(
        declines=declines,
        programme=programme,
        language=LANGUAGE_CYCLE[block % len(LANGUAGE_CYCLE)],
        likert=1 + (id_in_session * 3) % 7,
        programme_level=levels[id_in_session % len(levels)],
        taught_tbm=taught[id_in_session % len(taught)],
        appraisal=id_in_session % 7 == 3,
    )


def fresh(bot):
    """The bot's player as stored now: the bot thread's ORM session caches old values."""
    otree_glue.expire_cached_rows()
    return bot.player


class PlayerBot(Bot):
    def play_round(self):
        if self.session.config["name"] == DRYRUN:
            yield from dryrun_round(self)
            return
        case = case_for(self.participant.id_in_session)
        if case["declines"]:
            expect(self.player.field_maybe_none("manager"), None)
            return
        t = texts.load(case["language"])
        answer = case["likert"]

        # Background, with one invalid submission of each kind on the way.
        fields = AboutYou.get_form_fields(fresh(self))
        about = dict(year_of_study=2, campus="oslo", age_band="22_24", gender="woman", municipal_experience="none")
        about = {f: about[f] for f in fields}
        expect(t["questions"]["age_band"]["label"], "in", self.html)
        yield SubmissionMustFail(AboutYou, {**about, "age_band": None})  # missing answer
        expect(t["ui"]["error_choose"], "in", self.html)
        yield AboutYou, about

        motivation = dict(psm_1=answer, psm_2=7, attention=3, psm_3=1)
        yield SubmissionMustFail(Motivation, {**motivation, "psm_1": 8})  # out of range
        expect(t["ui"]["error_choose"], "in", self.html)
        yield SubmissionMustFail(Motivation, {**motivation, "psm_2": "abc"}, check_html=False)  # wrong type
        yield Motivation, motivation
        expect(fresh(self).attention_pass, True)

        expect(t["questions"]["programme_level"]["label"], "in", self.html)
        yield SubmissionMustFail(Programme, dict(programme="astronaut", programme_level="bachelor"))  # not a choice
        expect(t["ui"]["error_choose"], "in", self.html)
        yield SubmissionMustFail(Programme, dict(programme=case["programme"]))  # level missing
        expect(fresh(self).field_maybe_none("manager"), None)  # nothing assigned on a refused page
        yield Programme, dict(programme=case["programme"], programme_level=case["programme_level"])

        # Assigned exactly once, with its audit trail.
        p = fresh(self)
        expect(p.manager, "in", contract.FACTORS["manager"])
        expect(p.partner, "in", contract.FACTORS["partner"])
        expect(p.stratum, case["programme"])
        expect(p.block_position, "in", [1, 2, 3, 4])
        expect(p.assignment_probability, 0.25)
        expect(p.assignment_version, assignment.ASSIGNMENT_VERSION)
        for paragraph in texts.vignette(case["language"], p.programme, p.manager, p.partner, p.partner_profession):
            expect(paragraph, "in", self.html)
        other_manager = "control" if p.manager == "trust" else "trust"
        expect(t["vignette"]["manager"][other_manager], "not in", self.html)
        yield Vignette

        # The four scale pages in this student's recorded order, each titled by its scale.
        p = fresh(self)
        order = p.scale_order.split(",")
        expect(sorted(order), sorted(contract.RATED_SCALES))
        for position, page in enumerate(SCALE_PAGES):
            scale = scale_at(fresh(self), position)
            expect(scale, order[position])
            expect(t["pages"][scale], "in", self.html)
            items = page.get_form_fields(fresh(self))
            expect(sorted(items), sorted(contract.SCALES[scale]))
            expect(t["questions"][items[0]]["label"], "in", self.html)
            yield page, {item: answer for item in items}
        p = fresh(self)
        expect([getattr(p, item) for item in contract.SCALES["collaboration"]], [answer] * 5)
        expect(p.item_order, "!=", "")

        expect(t["questions"]["mc_manager"]["choices"]["appraisal"], "in", self.html)
        yield SubmissionMustFail(Checks, dict(mc_manager=p.manager))  # second check missing
        # A student who kept only the gist and picks the appraisal interview fails the check.
        mc_manager = "appraisal" if case["appraisal"] else p.manager
        yield Checks, dict(mc_manager=mc_manager, mc_partner="dont_know")
        p = fresh(self)
        expect(p.mc_manager_correct, not case["appraisal"])
        expect(p.mc_partner_correct, False)
        expect(p.completed, False)  # not before the last questions

        expect(t["questions"]["realism"]["label"], "in", self.html)
        yield SubmissionMustFail(LastQuestions, dict(realism=answer, taught_tbm="everything"))
        expect(t["ui"]["error_choose"], "in", self.html)
        yield LastQuestions, dict(realism=answer, taught_tbm=case["taught_tbm"])
        p = fresh(self)
        expect(p.realism, answer)
        expect(p.taught_tbm, case["taught_tbm"])
        expect(p.completed, True)
        expect(p.language, case["language"])

        expect(p.withdrawal_code, "in", self.html)
        yield Debrief


# ---------------------------------------------------------------- dry run
# `python -m analysis demo` runs `otree test dryrun N`: a simulated class answering from
# a data-generating process (DGP) with known effects for the assigned cell, and no
# invalid submissions. The coverage bots above are untouched for every other config.
DRYRUN = "dryrun"
DRYRUN_PROGRAMME_SHARES = (0.3, 0.3, 0.15, 0.15, 0.1)  # nursing, teacher, management, public_admin, other
MANAGER_OUTCOMES = ("attractiveness", "trust_manager", "autonomy")


def dryrun_rng(config, id_in_session: int, purpose: str) -> random.Random:
    """Reproducible randomness per bot and purpose (both apps draw the same decisions)."""
    return random.Random(f"{config.get('dgp_seed', 1)}:{id_in_session}:{purpose}")


def dryrun_declines(config, id_in_session: int) -> bool:
    return dryrun_rng(config, id_in_session, "consent").random() < float(config.get("dgp_decline", 0))


def dryrun_scale_mean(config, scale: str, manager: str, partner: str, person: float) -> float:
    """The DGP's mean of a scale for the assigned cell: 4 + effects (+-1/2 coded) + person."""
    m = 0.5 if manager == "trust" else -0.5
    q = 0.5 if partner == "other" else -0.5
    mu = 4.0 + person
    if scale in MANAGER_OUTCOMES:
        mu += float(config.get("dgp_effect_manager", 0)) * m
    if scale == "collaboration":
        mu += float(config.get("dgp_effect_partner", 0)) * q
        mu += float(config.get("dgp_effect_interaction", 0)) * m * q
    return mu


def _likert(rng: random.Random, mean: float, sd: float = 0.8) -> int:
    return min(7, max(1, round(rng.gauss(mean, sd))))


def dryrun_round(bot):
    config = bot.session.config
    pid = bot.participant.id_in_session
    if dryrun_declines(config, pid):
        expect(bot.player.field_maybe_none("manager"), None)
        return
    rng = dryrun_rng(config, pid, "answers")
    choices = lambda field: list(contract.ANSWER_CODES[field])  # noqa: E731
    about = dict(year_of_study=rng.randint(1, 4), campus=rng.choice(choices("campus")),
                 age_band=rng.choices(choices("age_band"), weights=(35, 30, 15, 12, 8))[0],
                 gender=rng.choices(choices("gender"), weights=(60, 30, 3, 7))[0],
                 municipal_experience=rng.choice(choices("municipal_experience")))
    # check_html=False: the coverage bots check the pages; these only feed the analysis.
    yield Submission(AboutYou, {f: about[f] for f in AboutYou.get_form_fields(bot.player)}, check_html=False)
    psm = rng.gauss(0, 0.9)
    attention = contract.ATTENTION_PASS_VALUE if rng.random() < 0.9 else rng.randint(1, 7)
    yield Submission(Motivation, dict(psm_1=_likert(rng, 5 + psm), psm_2=_likert(rng, 4.5 + psm),
                                      attention=attention, psm_3=_likert(rng, 5 + psm)), check_html=False)
    programme = rng.choices(assignment.PROGRAMMES, weights=DRYRUN_PROGRAMME_SHARES)[0]
    level = rng.choices(choices("programme_level"), weights=(80, 15, 5))[0]
    yield Submission(Programme, dict(programme=programme, programme_level=level), check_html=False)

    p = fresh(bot)  # the assigned cell and item order, as stored by the real assignment (read once)
    manager, partner = p.manager, p.partner
    expect(manager, "in", contract.FACTORS["manager"])
    yield Submission(Vignette, check_html=False)
    person = rng.gauss(0, 0.6) + 0.3 * psm
    for page in SCALE_PAGES:  # in the bot's own random scale order
        scale = page.scale_for(p)
        mean = dryrun_scale_mean(config, scale, manager, partner, person + rng.gauss(0, 0.4))
        yield Submission(page, {item: _likert(rng, mean) for item in page.get_form_fields(p)}, check_html=False)
    noticed = rng.random() < 0.9
    yield Submission(Checks, dict(mc_manager=manager if noticed else rng.choice(choices("mc_manager")),
                                  mc_partner=partner if noticed else rng.choice(choices("mc_partner"))),
                     check_html=False)
    yield Submission(LastQuestions, dict(realism=_likert(rng, 5.0),
                                         taught_tbm=rng.choice(choices("taught_tbm"))), check_html=False)
    yield Submission(Debrief, check_html=False)
