"""Drill plans: built-ins, validation with precise errors, and expansion into phases."""

from __future__ import annotations

from pathlib import Path

import pytest

from levelbelt.errors import ConfigError, LevelBeltError, PlanError
from levelbelt.plans import (
    builtin_names,
    expand,
    load_builtin,
    load_plan_file,
    parse_plan,
    resolve_plan,
)
from levelbelt.weaker_side import WeakerSide

RIGHT = WeakerSide("right", "manual", "set by hand")
LEFT = WeakerSide("left", "manual", "set by hand")

ISO = """
name = "t"
[[blocks]]
kind = "isometric"
side = "{side}"
position = "{position}"
reps = {reps}
hold_s = 3
rest_s = 5
get_ready_s = 5
order = "{order}"
"""


def iso(side: str = "both", position: str = "standing", reps: int = 2,
        order: str = "block") -> str:
    return ISO.format(side=side, position=position, reps=reps, order=order)


def test_the_builtin_plans_ship_with_the_package_and_are_valid() -> None:
    names = builtin_names()
    for required in ("glute-iso-daily", "trendelenburg-30s", "balance-ladder",
                     "glute-iso-quick"):
        assert required in names
    for name in names:
        plan = load_builtin(name)
        assert plan.name == name and plan.description
        assert expand(plan).holds


def test_reference_programme_gives_the_weaker_glute_ten_squeezes_in_each_position() -> None:
    ex = expand(load_builtin("glute-iso-daily"), RIGHT)
    holds = ex.holds
    for position in ("standing", "seated", "prone"):
        here = [h for h in holds if h.position == position]
        weak = [h for h in here if h.side == "right"]
        strong = [h for h in here if h.side == "left"]
        assert len(weak) == 10 and len(strong) == 5  # twice the volume
        assert all(h.planned_s == 3.0 for h in here)
        assert here[0].side == "right"  # the weaker side goes first
    rests = [p for p in ex.phases if p.kind == "rest"]
    assert {r.planned_s for r in rests} == {5.0}


def test_position_changes_insert_a_rezero_before_the_block() -> None:
    ex = expand(load_builtin("glute-iso-daily"), RIGHT)
    rezeros = [p for p in ex.phases if p.kind == "rezero"]
    assert [r.position for r in rezeros] == ["seated", "prone"]
    for r in rezeros:
        prev, nxt = ex.phases[r.index - 1], ex.phases[r.index + 1]
        assert prev.position != r.position and nxt.kind == "get_ready"
        assert nxt.position == r.position


def test_a_plan_that_starts_seated_begins_with_a_rezero() -> None:
    ex = expand(parse_plan(iso(position="seated"), "t.toml"))
    assert ex.phases[0].kind == "rezero" and ex.phases[0].position == "seated"
    assert [p.kind for p in ex.phases if p.kind == "rezero"] == ["rezero"]


def test_unknown_weaker_side_trains_both_sides_equally_and_says_so() -> None:
    ex = expand(load_builtin("glute-iso-daily"))
    assert ex.weaker.side is None
    for position in ("standing", "seated", "prone"):
        here = [h for h in ex.holds if h.position == position]
        assert sum(h.side == "left" for h in here) == sum(h.side == "right" for h in here) == 10
    assert ex.notes and all("weaker side unknown" in n for n in ex.notes)
    assert "--weak-side" in ex.notes[0]


def test_stronger_side_block_trains_only_the_stronger_side() -> None:
    ex = expand(parse_plan(iso(side="stronger", reps=4), "t.toml"), RIGHT)
    assert {h.side for h in ex.holds} == {"left"} and len(ex.holds) == 4


def test_weaker_volume_factor_rounds_the_stronger_sides_reps_half_up() -> None:
    text = iso(side="weaker", reps=3).replace('name = "t"', 'name = "t"\nweaker_volume = 2.0')
    ex = expand(parse_plan(text, "t.toml"), LEFT)
    assert [h.side for h in ex.holds].count("left") == 3
    assert [h.side for h in ex.holds].count("right") == 2  # 1.5 -> 2
    equal = text.replace("weaker_volume = 2.0", "weaker_volume = 1.0")
    ex = expand(parse_plan(equal, "t.toml"), LEFT)
    assert [h.side for h in ex.holds].count("right") == 3


def test_alternate_order_interleaves_sides_and_block_order_groups_them() -> None:
    alt = expand(parse_plan(iso(order="alternate", reps=2), "t.toml"))
    assert [(h.side, h.rep) for h in alt.holds] == [
        ("left", 1), ("right", 1), ("left", 2), ("right", 2)]
    grouped = expand(parse_plan(iso(order="block", reps=2), "t.toml"))
    assert [(h.side, h.rep) for h in grouped.holds] == [
        ("left", 1), ("left", 2), ("right", 1), ("right", 2)]


def test_each_block_starts_with_get_ready_and_rests_fall_between_holds_only() -> None:
    ex = expand(parse_plan(iso(reps=3), "t.toml"))
    kinds = [p.kind for p in ex.phases]
    assert kinds[0] == "get_ready" and kinds[-1] == "hold"
    assert kinds.count("rest") == kinds.count("hold") - 1
    assert [p.index for p in ex.phases] == list(range(len(ex.phases)))


def test_bilateral_squeezes_are_one_hold_per_rep() -> None:
    ex = expand(parse_plan(iso(side="bilateral", reps=3), "t.toml"))
    assert [h.side for h in ex.holds] == ["bilateral"] * 3


def test_balance_ladder_alternates_legs_through_increasing_holds() -> None:
    ex = expand(load_builtin("balance-ladder"))
    holds = ex.holds
    assert [h.planned_s for h in holds[:8]] == [10, 10, 15, 15, 20, 20, 30, 30]
    assert [h.side for h in holds[:4]] == ["left", "right", "left", "right"]
    assert all(h.block_kind == "single_leg" and h.position == "standing" for h in holds)


def test_balance_ladder_repeats_the_ladder_more_often_on_the_weaker_leg() -> None:
    ex = expand(load_builtin("balance-ladder"), RIGHT)
    right = [h for h in ex.holds if h.side == "right"]
    left = [h for h in ex.holds if h.side == "left"]
    assert len(right) == 8 and len(left) == 4
    assert sum(h.planned_s for h in right) == 2 * sum(h.planned_s for h in left)


def test_trendelenburg_test_is_thirty_seconds_on_each_leg() -> None:
    ex = expand(load_builtin("trendelenburg-30s"))
    assert [(h.side, h.planned_s) for h in ex.holds] == [("left", 30.0), ("right", 30.0)]


def test_estimated_duration_adds_a_typical_capture_per_rezero() -> None:
    ex = expand(load_builtin("glute-iso-daily"), RIGHT)
    planned = sum(p.planned_s for p in ex.phases)
    assert ex.estimated_s == pytest.approx(planned + 2 * 1.5)


# --------------------------------------------------------------------------- errors


def plan_error(text: str) -> str:
    with pytest.raises(PlanError) as info:
        parse_plan(text, "mine.toml")
    assert isinstance(info.value, ConfigError) and isinstance(info.value, LevelBeltError)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_out_of_range_value_names_file_key_value_and_range() -> None:
    msg = plan_error(iso().replace("hold_s = 3", "hold_s = 0"))
    assert msg == "mine.toml: blocks[1].hold_s: 0 is out of range; allowed 0.5 to 120 s"


def test_key_paths_count_blocks_from_one() -> None:
    text = iso() + '[[blocks]]\nkind = "single_leg"\nhold_s = 500\n'
    assert "blocks[2].hold_s: 500 is out of range" in plan_error(text)


def test_unknown_keys_are_errors_that_list_the_allowed_keys() -> None:
    msg = plan_error(iso().replace("hold_s = 3", "hold = 3"))
    assert msg.startswith("mine.toml: blocks[1].hold: unknown key; allowed keys here: kind,")
    assert "hold_s" in msg
    assert "weaker_volum: unknown key" in plan_error('weaker_volum = 2\n' + iso())


def test_bad_choices_list_the_allowed_values() -> None:
    msg = plan_error(iso(side="weakest"))
    assert "blocks[1].side: 'weakest' is not allowed; use one of left, right, both, " \
        "weaker, stronger, bilateral" in msg
    assert "position: 'lying' is not allowed; use one of standing, seated, prone" in \
        plan_error(iso(position="lying"))
    assert "kind: 'plank' is not allowed" in plan_error('[[blocks]]\nkind = "plank"\n')


def test_wrong_types_are_refused_not_coerced() -> None:
    assert "reps: 2.5 is not a whole number" in plan_error(iso().replace("reps = 2", "reps = 2.5"))
    assert "reps: True is not a whole number" in plan_error(iso().replace("reps = 2",
                                                                          "reps = true"))
    assert "hold_s: '3' is not a number" in plan_error(iso().replace("hold_s = 3",
                                                                     'hold_s = "3"'))
    assert "hold_s: nan is out of range" in plan_error(iso().replace("hold_s = 3",
                                                                     "hold_s = nan"))


def test_required_keys_are_named_with_their_range() -> None:
    assert "blocks[1].reps: required (a whole number from 1 to 100)" in plan_error(
        iso().replace("reps = 2\n", ""))
    assert "blocks: required" in plan_error('name = "x"\n')
    assert "blocks[1].kind: required (one of isometric, single_leg)" in plan_error(
        "[[blocks]]\nreps = 1\n")


def test_single_leg_blocks_take_exactly_one_of_hold_or_ladder() -> None:
    both = '[[blocks]]\nkind = "single_leg"\nhold_s = 10\nladder_s = [10, 20]\n'
    assert "blocks[1]: give exactly one of hold_s" in plan_error(both)
    assert "give exactly one" in plan_error('[[blocks]]\nkind = "single_leg"\n')


def test_ladders_must_increase() -> None:
    msg = plan_error('[[blocks]]\nkind = "single_leg"\nladder_s = [10, 20, 15]\n')
    assert "blocks[1].ladder_s[3]: 15 does not increase" in msg
    assert "ladder_s: [10] is not allowed" in plan_error(
        '[[blocks]]\nkind = "single_leg"\nladder_s = [10]\n')


def test_single_leg_holds_have_no_position_key() -> None:
    msg = plan_error('[[blocks]]\nkind = "single_leg"\nhold_s = 10\nposition = "seated"\n')
    assert "blocks[1].position: unknown key" in msg


def test_toml_syntax_errors_report_file_and_line() -> None:
    msg = plan_error('name = "x"\n\n[[blocks]\nkind = "isometric"\n')
    assert msg.startswith("mine.toml:3: invalid TOML: ")
    assert "at line" not in msg


def test_plan_names_are_checked() -> None:
    assert "name: 'my plan!' is not allowed" in plan_error('name = "my plan!"\n' + iso()
                                                          .replace('name = "t"', ""))


def test_plan_files_default_their_name_to_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my-drills.toml"
    path.write_text(iso().replace('name = "t"\n', ""), encoding="utf-8")
    plan = load_plan_file(path)
    assert plan.name == "my-drills" and plan.source == str(path)


def test_unreadable_and_binary_files_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"missing\.toml: cannot read"):
        load_plan_file(tmp_path / "missing.toml")
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(PlanError, match="not UTF-8 text"):
        load_plan_file(binary)


def test_resolve_plan_takes_builtin_names_and_files(tmp_path: Path) -> None:
    assert resolve_plan("glute-iso-quick").name == "glute-iso-quick"
    path = tmp_path / "p.toml"
    path.write_text(iso(), encoding="utf-8")
    assert resolve_plan(str(path)).source == str(path)
    with pytest.raises(PlanError, match="no built-in plan of that name; built-ins: "
                                        "balance-ladder"):
        resolve_plan("glute-iso-weekly")


def test_asymmetry_pct_sets_the_lsi_flag_per_plan_within_limits() -> None:
    base = '[[blocks]]\nkind = "single_leg"\nhold_s = 30\n'
    assert parse_plan(base, "p.toml").asymmetry_pct == 15.0  # the reference programme's
    assert parse_plan("asymmetry_pct = 10\n" + base, "p.toml").asymmetry_pct == 10.0
    with pytest.raises(PlanError) as e:
        parse_plan("asymmetry_pct = 0\n" + base, "p.toml")
    assert str(e.value) == "p.toml: asymmetry_pct: 0 is out of range; allowed 1 to 50 %"
