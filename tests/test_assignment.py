"""The assignment algorithm: stratified permuted blocks, audit trail, no refilling."""

import ast
import collections
import datetime
import pathlib
import random

import pytest

from analysis import contract
from collab_experiment import assignment
from collab_experiment.assignment import CELLS, PROGRAMMES, assign, max_imbalance, new_state

PLAIN_MODULES = ["assignment.py", "texts.py", "tidy.py", "withdrawal.py"]


@pytest.mark.parametrize("module", PLAIN_MODULES)
def test_plain_modules_do_not_import_otree(module):
    source = (pathlib.Path(__file__).resolve().parents[1] / "collab_experiment" / module).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "otree" not in imported


def test_the_apps_assignment_module_is_the_analysis_one_which_imports_no_otree():
    from analysis import assignment as plain
    assert assignment is plain  # one module: the app assigns with what the design diagnosis simulates
    source = pathlib.Path(plain.__file__).read_text()
    assert "otree" not in {n.module.split(".")[0] for n in ast.walk(ast.parse(source))
                           if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name.split(".")[0] for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names}


def run(programmes, *, block_size=4, seed=None, session_code="s1"):
    state, out = new_state(), []
    for programme in programmes:
        state, a = assign(state, programme, block_size=block_size, seed=seed, session_code=session_code)
        out.append(a)
    return state, out


def test_cells_never_differ_by_more_than_one_at_any_moment():
    rng = random.Random(1)
    state, counts = new_state(), collections.defaultdict(collections.Counter)
    for _ in range(2000):
        programme = rng.choice(PROGRAMMES)
        state, a = assign(state, programme)
        counts[programme][(a.manager, a.partner)] += 1
        assert max_imbalance(counts[programme]) <= 1


def test_simulated_arrivals_with_leavers_stay_balanced_and_cover_every_cell():
    """1,000 arrivals; a fifth leave right after assignment (no refilling: still counted)."""
    rng = random.Random(2026)
    weights = dict(nursing=0.35, teacher=0.3, management=0.12, public_admin=0.13, other=0.1)
    state, assigned, finished = new_state(), [], []
    for _ in range(1000):
        programme = rng.choices(list(weights), weights=list(weights.values()))[0]
        state, a = assign(state, programme)
        assigned.append(a)
        if rng.random() > 0.2:
            finished.append(a)
        for stratum, per_cell in assignment.cell_counts(assigned).items():
            assert max_imbalance(per_cell) <= 1, stratum
    counts = assignment.cell_counts(assigned)
    assert set(counts) == set(PROGRAMMES)  # programme "other" gets its own stratum
    for stratum, per_cell in counts.items():
        assert all(per_cell[c] > 0 for c in CELLS), stratum
    # both partner professions for the programmes without a natural counterpart
    for programme in ("management", "public_admin", "other"):
        professions = {a.partner_profession for a in assigned if a.stratum == programme and a.partner == "other"}
        assert professions == {"nurse", "teacher"}
    # leavers make the finished sample unbalanced; the assigned sample stays balanced
    assert len(finished) < len(assigned)


def test_partner_profession_follows_programme():
    _, out = run(["nursing"] * 8 + ["teacher"] * 8 + ["management"] * 8)
    for a in out:
        if a.partner == "same":
            assert a.partner_profession == contract.OWN_PROFESSION[a.stratum]
        elif a.stratum == "nursing":
            assert a.partner_profession == "teacher"
        elif a.stratum == "teacher":
            assert a.partner_profession == "nurse"
        else:
            assert a.partner_profession in ("nurse", "teacher")


def test_other_profession_is_balanced_within_each_block_for_management():
    _, out = run(["management"] * 40)
    by_block = collections.defaultdict(list)
    for a in out:
        if a.partner == "other":
            by_block[a.block].append(a.partner_profession)
    assert all(sorted(v) == ["nurse", "teacher"] for v in by_block.values())


def test_audit_trail_numbers_blocks_and_positions_per_stratum():
    _, out = run(["nursing", "teacher", "nursing", "nursing", "nursing", "nursing"])
    nursing = [(a.block, a.block_position) for a in out if a.stratum == "nursing"]
    assert nursing == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1)]
    a = out[0]
    assert a.assignment_probability == 0.25
    assert a.assignment_version == assignment.ASSIGNMENT_VERSION
    when = datetime.datetime.fromisoformat(a.assigned_at)
    assert when.utcoffset() == datetime.timedelta(0)


def test_every_block_is_a_permutation_of_the_four_cells():
    _, out = run(["teacher"] * 400)
    blocks = collections.defaultdict(list)
    for a in out:
        blocks[a.block].append((a.manager, a.partner))
    assert all(sorted(cells) == sorted(CELLS) for cells in blocks.values())
    # and the blocks are not all the same order (the shuffle is real)
    assert len({tuple(cells) for cells in blocks.values()}) > 10


def test_block_size_eight_holds_each_cell_twice():
    _, out = run(["nursing"] * 16, block_size=8)
    first = collections.Counter((a.manager, a.partner) for a in out[:8])
    assert set(first.values()) == {2}
    assert {a.block_size for a in out} == {8}


def test_seed_and_session_code_make_the_sequence_reproducible_and_unseeded_runs_differ():
    arrivals = ["nursing", "teacher", "management"] * 20
    cells = lambda out: [(a.manager, a.partner, a.partner_profession) for a in out]
    # a demo re-created with the same session code and seed assigns identically
    assert cells(run(arrivals, seed="demo")[1]) == cells(run(arrivals, seed="demo")[1])
    assert cells(run(arrivals, seed="demo")[1]) != cells(run(arrivals, seed="other")[1])
    assert cells(run(arrivals)[1]) != cells(run(arrivals)[1])


def test_two_sessions_with_the_same_seed_do_not_assign_identically():
    arrivals = ["nursing", "teacher", "management"] * 20
    cells = lambda out: [(a.manager, a.partner, a.partner_profession) for a in out]
    assert cells(run(arrivals, seed="demo", session_code="abc123")[1]) \
        != cells(run(arrivals, seed="demo", session_code="xyz789")[1])
    # the session code alone (no seed) never makes a session predictable
    assert assignment.stream_key("", "abc123") is None and assignment.stream_key(None, "abc123") is None
    assert assignment.stream_key(" demo ", "abc123") != assignment.stream_key("demo", "xyz789")


def test_presentation_streams_depend_on_seed_session_and_student():
    draw = lambda *key: [assignment.presentation_rng(*key).random() for _ in range(3)]
    assert draw("demo", "abc123", 1) == draw("demo", "abc123", 1)
    assert draw("demo", "abc123", 1) != draw("demo", "xyz789", 1)
    assert draw("demo", "abc123", 1) != draw("demo", "abc123", 2)
    assert draw("", "abc123", 1) != draw("", "abc123", 1)  # cryptographic without a seed


def test_state_is_not_mutated_and_survives_a_json_round_trip():
    import json

    state, _ = run(["nursing", "nursing"])
    frozen = json.dumps(state, sort_keys=True)
    restored = json.loads(frozen)
    _, a = assign(restored, "nursing")
    assert json.dumps(state, sort_keys=True) == frozen
    assert (a.block, a.block_position) == (1, 3)


@pytest.mark.parametrize("bad", [dict(programme="astronomy"), dict(block_size=6)])
def test_bad_arguments_are_refused_with_a_clear_message(bad):
    args = dict(programme="nursing", block_size=4) | bad
    with pytest.raises(ValueError, match="programme|block_size"):
        assign(new_state(), args["programme"], block_size=args["block_size"])
