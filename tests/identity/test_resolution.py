"""The resolver's rules on a hand-made graph (pure: no database)."""

from __future__ import annotations

from collections.abc import Sequence

from seamline.identity.identifiers import Identifier
from seamline.identity.resolution import Limits, ProfileShape, resolve
from seamline.identity.rules import default_rules

RULES = {r.type: r for r in default_rules()}
LIMITS = Limits(max_identifiers_per_profile=10, max_merges_per_profile=3)


class Graph:
    def __init__(self, profiles: dict[int, list[str]], blocked: set[tuple[int, int]] = frozenset()) -> None:
        self.shapes: dict[int, ProfileShape] = {}
        self.holding: dict[Identifier, list[int]] = {}
        for pid, idents in profiles.items():
            shape = ProfileShape(pid)
            for text in idents:
                ident = Identifier.parse(text)
                shape.identifiers.setdefault(ident.type, set()).add(ident.value)
                self.holding.setdefault(ident, []).append(pid)
            self.shapes[pid] = shape
        self.blocked = set(blocked)

    def holders(self, identifier: Identifier) -> Sequence[int]:
        return self.holding.get(identifier, ())

    def shape(self, profile_id: int) -> ProfileShape:
        return self.shapes[profile_id]

    def is_blocked(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.blocked


def ids(*texts: str) -> list[Identifier]:
    parsed = [Identifier.parse(t) for t in texts]
    return sorted(parsed, key=lambda i: (RULES[i.type].priority, i))


def test_unknown_identifiers_make_a_new_profile() -> None:
    result = resolve(ids("user_id:u", "email:a@x.io"), Graph({}), RULES, LIMITS)
    assert result.profile_id is None
    assert [str(i) for i in result.attach] == ["user_id:u", "email:a@x.io"]


def test_two_known_profiles_sharing_evidence_merge_into_the_stronger() -> None:
    graph = Graph({1: ["user_id:u"], 2: ["email:a@x.io", "anonymous_id:a1"]})
    result = resolve(ids("user_id:u", "email:a@x.io"), graph, RULES, LIMITS)
    assert result.profile_id == 1
    assert [(m[0], str(m[1]), m[2]) for m in result.merges] == [(2, "email:a@x.io", "shared_identifier")]


def test_two_user_ids_never_merge_the_stronger_identifier_wins() -> None:
    graph = Graph({1: ["user_id:u1", "email:a@x.io"]})
    result = resolve(ids("user_id:u2", "email:a@x.io"), graph, RULES, LIMITS)
    assert result.profile_id is None  # u2 is a new person
    assert [str(i) for i in result.attach] == ["user_id:u2"]
    assert [(str(c.identifier), c.other_profile, c.reason) for c in result.conflicts] == [
        ("email:a@x.io", 1, "limit:user_id")
    ]


def test_a_device_seen_with_a_second_known_person_is_shared_not_merged() -> None:
    graph = Graph({1: ["user_id:mum", "anonymous_id:tablet"]})
    result = resolve(ids("user_id:kid", "anonymous_id:tablet"), graph, RULES, LIMITS)
    assert result.profile_id is None
    assert result.merges == []
    assert [str(i) for i in result.shared_devices] == ["anonymous_id:tablet"]


def test_an_anonymous_profile_is_stitched_into_the_known_person() -> None:
    graph = Graph({1: ["user_id:u"], 2: ["anonymous_id:a2", "device_id:d2"]})
    result = resolve(ids("user_id:u", "anonymous_id:a2"), graph, RULES, LIMITS)
    assert result.profile_id == 1
    assert [(m[0], m[2]) for m in result.merges] == [(2, "anonymous_stitch")]


def test_only_device_ids_go_to_the_most_recent_user() -> None:
    graph = Graph({1: ["user_id:mum", "anonymous_id:tablet"], 2: ["user_id:kid", "anonymous_id:tablet"]})
    graph.holding[Identifier("anonymous_id", "tablet")] = [2, 1]  # the kid used it last
    assert resolve(ids("anonymous_id:tablet"), graph, RULES, LIMITS).profile_id == 2


def test_a_blocked_pair_is_not_merged_again_and_its_evidence_links_neither() -> None:
    graph = Graph({1: ["user_id:u"], 2: ["anonymous_id:a2"]}, blocked={(1, 2)})
    result = resolve(ids("user_id:u", "anonymous_id:a2"), graph, RULES, LIMITS)
    assert result.profile_id == 1
    assert result.merges == []
    assert result.attach == []
    assert [c.reason for c in result.conflicts] == ["blocked:unmerged_before"]


def test_merge_and_identifier_caps_stop_merge_storms() -> None:
    many = {i: [f"anonymous_id:a{i}"] for i in range(2, 8)}
    graph = Graph({1: ["user_id:u"], **many})
    graph.shapes[1].merges = 3  # at the cap already
    result = resolve(ids("user_id:u", "anonymous_id:a2"), graph, RULES, LIMITS)
    assert result.merges == []
    assert [c.reason for c in result.conflicts] == ["limit:merges_per_profile"]

    crowded = Graph({1: ["user_id:u", *[f"email:e{i}@x.io" for i in range(9)]]})
    result = resolve(ids("user_id:u", "phone:+14155550132"), crowded, RULES, LIMITS)
    assert [c.reason for c in result.conflicts] == ["limit:identifiers_per_profile"]


def test_a_match_declaring_two_national_ids_one_typo_apart_merges_them_and_records_the_finding() -> None:
    graph = Graph({1: ["email:a@x.io", "national_id:900123456"], 2: ["email:b@x.io", "national_id:900123465"]})
    plain = resolve(ids("email:a@x.io", "email:b@x.io"), graph, RULES, LIMITS)
    assert plain.merges == []
    assert [c.reason for c in plain.conflicts] == ["limit:national_id"]
    tolerated = {"national_id": frozenset({"900123456", "900123465"})}
    result = resolve(ids("email:a@x.io", "email:b@x.io"), graph, RULES, LIMITS, tolerated)
    assert [(m[0], m[2]) for m in result.merges] == [(2, "shared_identifier")]
    assert [(str(c.identifier), c.other_profile, c.reason) for c in result.conflicts] == [
        ("national_id:900123465", 2, "id_typo")
    ]
    # Only the declared pair counts as one: a third national id is refused as before.
    other = Graph({1: ["email:a@x.io", "national_id:900123456"], 3: ["email:c@x.io", "national_id:111222333"]})
    refused = resolve(ids("email:a@x.io", "email:c@x.io"), other, RULES, LIMITS, tolerated)
    assert refused.merges == []


def test_a_profile_holding_a_tolerated_pair_still_takes_its_events_but_not_a_third_id() -> None:
    graph = Graph({1: ["email:a@x.io", "national_id:900123456", "national_id:900123465"]})
    result = resolve(ids("national_id:900123456", "email:new@x.io"), graph, RULES, LIMITS)
    assert result.profile_id == 1
    assert [str(i) for i in result.attach] == ["email:new@x.io"]
    assert result.conflicts == []
    # A third national id is another person's, as beside any one national id.
    third = resolve(ids("email:a@x.io", "national_id:111222333"), graph, RULES, LIMITS)
    assert third.profile_id is None
    assert [(str(c.identifier), c.reason) for c in third.conflicts] == [("email:a@x.io", "limit:national_id")]


def test_a_match_declaring_every_id_of_both_profiles_joins_a_third_to_a_tolerated_pair() -> None:
    graph = Graph(
        {
            1: ["email:a@x.io", "national_id:900123456", "national_id:900123465"],
            2: ["email:b@x.io", "national_id:900124456"],
        }
    )
    declared = {"national_id": frozenset({"900123456", "900123465", "900124456"})}
    result = resolve(ids("email:a@x.io", "email:b@x.io"), graph, RULES, LIMITS, declared)
    assert [(m[0], m[2]) for m in result.merges] == [(2, "shared_identifier")]
    assert [(str(c.identifier), c.other_profile, c.reason) for c in result.conflicts] == [
        ("national_id:900124456", 2, "id_typo")
    ]
