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


def test_progress_counts_joined_consented_finished():
    rows = [row("nursing", "trust", "same")] * 6 + [dict(joined=True, consented=False)] * 2
    assert dashboard.summary(rows)["progress"] == {"joined": 8, "consented": 6, "finished": 6}


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
