"""Bots: every programme × cell × language, the decline path, and each kind of bad input.

Bots move in lockstep (oTree runs them round-robin, one page each per round), and every
consenting bot makes the same submissions before the programme page, so within a
programme they arrive in id order. Each run of four consecutive arrivals of a programme
fills one block, and it shares one language: every block covers all four cells, so
every programme × cell × language occurs once a programme has three full blocks.
"""

from otree.api import Bot, Submission, SubmissionMustFail, expect
from otree.database import db

from . import (
    AboutYou, Attractiveness, Autonomy, Checks, Collaboration, Debrief, Motivation,
    Programme, TrustManager, Vignette, assignment, texts,
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
    return dict(
        declines=declines,
        programme=programme,
        language=LANGUAGE_CYCLE[block % len(LANGUAGE_CYCLE)],
        likert=1 + (id_in_session * 3) % 7,
    )


def fresh(bot):
    """The bot's player as stored now: the bot thread's ORM session caches old values."""
    db.expire_all()
    return bot.player


class PlayerBot(Bot):
    def play_round(self):
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

        yield SubmissionMustFail(Programme, dict(programme="astronaut"))  # not one of the choices
        expect(t["ui"]["error_choose"], "in", self.html)
        yield Programme, dict(programme=case["programme"])

        # Assigned exactly once, with its audit trail.
        p = fresh(self)
        expect(p.manager, "in", assignment.MANAGERS)
        expect(p.partner, "in", assignment.PARTNERS)
        expect(p.stratum, case["programme"])
        expect(p.block_position, "in", [1, 2, 3, 4])
        expect(p.assignment_probability, 0.25)
        expect(p.assignment_version, assignment.ASSIGNMENT_VERSION)
        for paragraph in texts.vignette(case["language"], p.programme, p.manager, p.partner, p.partner_profession):
            expect(paragraph, "in", self.html)
        other_manager = "control" if p.manager == "trust" else "trust"
        expect(t["vignette"]["manager"][other_manager], "not in", self.html)
        yield Vignette

        orders = {}
        for page in (Attractiveness, TrustManager, Collaboration, Autonomy):
            items = page.get_form_fields(fresh(self))
            expect(sorted(items), sorted(texts.OUTCOME_SCALES[page.scale]))
            orders[page.scale] = items
            yield page, {item: answer for item in items}
        p = fresh(self)
        expect([getattr(p, item) for item in texts.OUTCOME_SCALES["collaboration"]], [answer] * 5)
        expect(p.item_order, "!=", "")

        yield SubmissionMustFail(Checks, dict(mc_manager=p.manager))  # second check missing
        yield Checks, dict(mc_manager=p.manager, mc_partner="dont_know")
        p = fresh(self)
        expect(p.mc_manager_correct, True)
        expect(p.mc_partner_correct, False)
        expect(p.completed, True)
        expect(p.language, case["language"])

        expect(p.withdrawal_code, "in", self.html)
        yield Debrief
