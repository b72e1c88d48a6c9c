"""Bots for the consent page: language switch, refused and accepted consent."""

from otree.api import Bot, Submission, SubmissionMustFail, expect

from collab_experiment import texts
from collab_experiment.tests import DRYRUN, case_for, dryrun_declines, fresh

from . import Consent


class PlayerBot(Bot):
    def play_round(self):
        if self.session.config["name"] == DRYRUN:  # the analysis's dry run: consent or a plain no
            declines = dryrun_declines(self.session.config, self.participant.id_in_session)
            answer = dict(consented=False) if declines else dict(consented=True, age_confirmed=True)
            yield Submission(Consent, answer, check_html=False)
            return
        case = case_for(self.participant.id_in_session)
        # The language buttons re-show the page in that language and store nothing.
        yield Submission(Consent, dict(switch_language=case["language"]), check_html=False)
        expect(texts.load(case["language"])["consent"]["agree"], "in", self.html)
        expect(fresh(self).field_maybe_none("consented"), None)

        if case["declines"]:
            yield Consent, dict(consented=False)
            expect(fresh(self).consented, False)
            expect(fresh(self).field_maybe_none("age_confirmed"), None)
            expect(fresh(self).field_maybe_none("language"), None)
            expect(texts.load(case["language"])["finished"]["body"], "in", self.html)
            return
        # Agreeing without confirming one's age is asked again, in the student's language.
        yield SubmissionMustFail(Consent, dict(consented=True))
        expect(texts.load(case["language"])["ui"]["error_age"], "in", self.html)
        yield SubmissionMustFail(Consent, dict())  # no decision at all
        yield Consent, dict(consented=True, age_confirmed=True)
        expect(fresh(self).language, case["language"])
