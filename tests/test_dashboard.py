"""What the instructor sees: masked counts, the balance guarantee, the live detectable effect."""

import pingouin as pg
import pytest

from collab_experiment import dashboard


def row(programme, manager, partner, finished=True, **extra):
    return dict(joined=True, consented=True, finished=finished, programme=programme,
                manager=manager, partner=partner, **extra)


def test_counts_under_five_are_masked_and_zero_and_five_are_not():
    assert [dashboard.mask(n) for n in (0, 1, 4, 5, 17)] == [0, "<5", "<5", 5, 17]


@pytest.mark.parametrize("k,n,shown", [(3, 4, "–"), (3, 10, "–"), (8, 10, "–"), (5, 10, "50 %"), (10, 10, "100 %"),
                                       (0, 12, "0 %")])
def test_rates_are_hidden_when_either_side_is_a_small_group(k, n, shown):
    assert dashboard.mask_rate(k, n) == shown


def test_balance_reports_the_largest_cell_difference_per_programme():
    rows = [row("nursing", "trust", "same"), row("nursing", "trust", "same"), row("nursing", "control", "other"),
            row("teacher", "trust", "other")]
    balance = {b["programme"]: b["largest_difference"] for b in dashboard.balance(rows)}
    assert balance == {"nursing": 2, "teacher": 1}


NOW = 1_800_000_000


def test_class_totals_are_exact_and_add_up_to_joined():
    """Three students: small, yet every total is shown as it is (they reveal no answer)."""
    rows = [
        row("nursing", "trust", "same"),  # finished
        row("teacher", "control", "other", finished=False, last_seen=NOW - 60),  # answering now
        row("teacher", "trust", "other", finished=False, last_seen=NOW - 11 * 60),  # stopped 11 min ago
        dict(joined=True, consented=None, last_seen=NOW - 30 * 60),  # on the consent page
        dict(joined=True, consented=False, finished=False),  # declined
        dict(joined=False),  # a spare place nobody opened
    ]
    progress = dashboard.summary(rows, now=NOW, left_after=10)["progress"]
    assert progress == {"joined": 5, "not_started": 1, "in_progress": 1, "left": 1, "finished": 1, "declined": 1}
    assert progress["joined"] == sum(progress[k] for k in dashboard.STATUSES)


def test_a_withdrawn_student_counts_as_finished_not_as_answering_or_left():
    """`manage withdraw` blanks every answer, `completed` and the version included; the
    student reached the debrief, so they count as finished, never as a count of their own."""
    withdrawn = dict(joined=True, consented=True, finished=False, withdrawn=True, programme=None,
                     manager=None, partner=None, last_seen=NOW - 60)
    assert dashboard.status(withdrawn, NOW, left_after=10) == "finished"
    assert dashboard.status(dict(withdrawn, last_seen=NOW - 3600), NOW, left_after=10) == "finished"
    rows = [row("nursing", "trust", "same"), withdrawn,
            row("teacher", "control", "other", finished=False, last_seen=NOW - 60)]
    summary = dashboard.summary(rows, now=NOW, left_after=10)
    assert summary["progress"] == {"joined": 3, "not_started": 0, "in_progress": 1, "left": 0,
                                   "finished": 2, "declined": 0}
    assert not any("withdr" in key for key in summary["progress"])
    assert all(cell["in_progress"] in (0, "<5") for cell in summary["cells"])


def test_still_answering_is_the_class_results_rule():
    """The projector's "N still answering" counts what the Report tab and the results page
    count: opened the link and neither finished, withdrew, declined nor reached the end."""
    from collab_experiment import class_results

    people = [  # (joined, consented, page, finished, withdrawn)
        (True, True, "Scale2", False, False),  # answering
        (True, None, "Consent", False, False),  # on the consent page: counts
        (True, True, "Vignette", False, False),  # answering
        (True, True, "Finished", True, False),  # finished
        (True, True, "Debrief", False, True),  # withdrew (answers and `completed` blanked)
        (True, False, "Finished", False, False),  # declined
        (False, None, None, False, False),  # a place nobody took
        (True, True, "Finished", False, False),  # at the end page
    ]
    rows = [dict(joined=j, consented=c, page=p, finished=f, withdrawn=w) for j, c, p, f, w in people]
    players = [dict(participant_id=i, completed=f, withdrawn=w, programme="nursing", manager="trust",
                    partner="same") for i, (_, _, _, f, w) in enumerate(people)]
    participants = {i: dict(visited=j, consented=c, page=p) for i, (j, c, p, _, _) in enumerate(people)}
    assert dashboard.still_answering(rows) == 3
    assert class_results.class_status(players, participants)["in_progress"] == 3


def test_in_progress_becomes_left_after_the_configured_minutes():
    student = row("nursing", "trust", "same", finished=False, last_seen=NOW - 6 * 60)
    assert dashboard.status(student, NOW, left_after=10) == "in_progress"
    assert dashboard.status(student, NOW, left_after=5) == "left"
    assert dashboard.left_after_minutes({}) == 10
    assert dashboard.left_after_minutes({"OTREE_LEFT_AFTER_MINUTES": "5"}) == 5
    assert dashboard.left_after_minutes({"OTREE_LEFT_AFTER_MINUTES": "soon"}) == 10
    assert dashboard.left_after_minutes({"OTREE_LEFT_AFTER_MINUTES": "0"}) == 10


def test_cells_split_answering_now_from_left_and_stay_masked():
    rows = ([row("nursing", "trust", "same", finished=False, last_seen=NOW - 60)] * 6
            + [row("nursing", "trust", "same", finished=False, last_seen=NOW - 3600)] * 2
            + [row("nursing", "trust", "same")] * 5)
    [cell] = dashboard.summary(rows, now=NOW, left_after=10)["cells"]
    assert cell == dict(programme="nursing", manager="trust", partner="same", assigned=13, finished=5,
                        in_progress=6, left=dashboard.MASK)


@pytest.mark.parametrize("n1,n0", [(10, 10), (30, 25), (60, 60), (150, 140)])
def test_detectable_effect_matches_pingouin(n1, n0):
    ours = dashboard.mde_80(n1, n0)
    theirs = pg.power_ttest2n(nx=n1, ny=n0, power=0.8, alpha=0.05)
    assert ours == pytest.approx(theirs, rel=1e-4)


def test_detectable_effect_needs_two_per_arm_and_shrinks_with_more_students():
    assert dashboard.mde_80(1, 10) is None
    assert dashboard.mde_80(40, 40) < dashboard.mde_80(20, 20)
    rows = [row("nursing", m, p) for m in ("trust", "control") for p in ("same", "other") for _ in range(10)]
    mde = {(m["programme"], m["factor"]): m["mde_80"] for m in dashboard.detectable_effects(rows)}
    assert mde[("nursing", "manager")] == f"{pg.power_ttest2n(20, 20, power=0.8):.2f} SD"
    assert mde[("teacher", "manager")] == "–"


def test_the_pooled_detectable_effect_leaves_out_the_programme_never_estimated():
    four = [row(p, m, q) for p in ("nursing", "teacher") for m in ("trust", "control")
            for q in ("same", "other") for _ in range(5)]
    other = [row("other", m, q) for m in ("trust", "control") for q in ("same", "other") for _ in range(25)]
    mde = {(m["programme"], m["factor"]): m for m in dashboard.detectable_effects(four + other)}
    assert "other" not in {programme for programme, _ in mde}
    assert mde[("pooled", "manager")]["finished"] == 40
    assert mde[("pooled", "manager")]["mde_80"] == f"{pg.power_ttest2n(20, 20, power=0.8):.2f} SD"


def test_perceived_autonomy_by_manager_arm_is_a_masked_mean_and_a_difference():
    trust = [row("nursing", "trust", "same", autonomy=a) for a in (5, 6, 6, 5.5, 6.5)]
    control = [row("nursing", "control", "other", autonomy=a) for a in (3, 4, 4)]
    shown = dashboard.autonomy_by_manager(trust + control)
    assert shown["arms"] == [dict(manager="trust", answered=5, mean="5.8"),
                             dict(manager="control", answered=dashboard.MASK, mean="–")]
    assert shown["difference"] == "–"  # one arm is too small to show
    control += [row("nursing", "control", "same", autonomy=a) for a in (2, 3.5)]
    shown = dashboard.autonomy_by_manager(trust + control + [row("teacher", "trust", "same")])  # unanswered: not counted
    assert shown["arms"][1] == dict(manager="control", answered=5, mean="3.3")
    assert shown["difference"] == f"{5.8 - 3.3:+.1f}"
    # a mean at an end of the scale would tell what each of them answered
    assert dashboard.mask_mean([7.0] * 6) == "–" and dashboard.mask_mean([1.0] * 6) == "–"
