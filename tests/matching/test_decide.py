"""From scored pairs to outcomes: the bands, the household guard, national ids and reviewers' rejections. Pure."""

from __future__ import annotations

from seamline.matching.decide import ScoredPair, decide, is_in_sequence
from seamline.matching.prepare import prepare
from seamline.matching.scoring import probability

RECORDS = {
    "a": prepare({"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-02", "national_id": "123456789"}),
    "b": prepare({"first_name": "Anne", "last_name": "Lee", "date_of_birth": "1980-01-02"}),
    "c": prepare({"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-02", "national_id": "987654321"}),
    # the same id with two digits swapped: a typo in one silo
    "g": prepare({"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-02", "national_id": "123456798"}),
    # twins at home: one birth date, one landline, two first names
    "p": prepare(
        {"first_name": "Peter", "last_name": "Quennell", "date_of_birth": "1975-06-30", "phone": "+16175550188"}
    ),
    "q": prepare(
        {"first_name": "Paul", "last_name": "Quennell", "date_of_birth": "1975-06-30", "phone": "+16175550188"}
    ),
    # a first name replaced in one silo, everything else the same and no shared phone: the score decides
    "r": prepare(
        {"first_name": "Dylan", "last_name": "Ploughman", "date_of_birth": "1948-01-28", "street": "16 Barron St"}
    ),
    "s": prepare(
        {"first_name": "Mitchell", "last_name": "Ploughman", "date_of_birth": "1948-01-28", "street": "16 Barron St"}
    ),
    # first and last names swapped: not a different first name
    "t": prepare({"first_name": "Tom", "last_name": "Lee", "date_of_birth": "1950-05-05"}),
    "u": prepare({"first_name": "Lee", "last_name": "Tom", "date_of_birth": "1979-05-05"}),
    "d": prepare({"first_name": "Tom", "last_name": "Lee", "date_of_birth": "1979-05-05"}),
    "e": prepare({"first_name": "Tom", "last_name": "Lee", "date_of_birth": "1979-05-05", "email": "t@x.io"}),
    "f": prepare({"first_name": "Ted", "last_name": "Lee", "date_of_birth": "1950-05-05", "email": "t@x.io"}),
}


def _decide(*pairs: tuple[str, str, float], rejected: tuple[tuple[str, str], ...] = ()) -> object:
    return decide(
        [ScoredPair(a, b, p, 0.0) for a, b, p in pairs],
        RECORDS,
        merge_threshold=0.99,
        review_threshold=0.5,
        rejected=rejected,
    )


def test_bands() -> None:
    out = _decide(("a", "b", 0.999), ("d", "e", 0.7), ("b", "d", 0.2))
    assert [(p.left, p.right) for p in out.merges] == [("a", "b")]
    assert [(p.left, p.right) for p in out.reviews] == [("d", "e")]
    assert out.clusters["a"] == out.clusters["b"]


def test_ids_that_differ_outright_on_other_records_keep_the_clusters_apart() -> None:
    # b-c's score never weighed a's id against c's: nothing to judge the conflict by
    out = _decide(("a", "b", 0.9999), ("b", "c", 0.999))
    assert len(out.merges) == 1
    assert out.apart == 1
    assert out.clusters["a"] == out.clusters["b"]


def test_ids_that_differ_outright_are_weighed_by_the_pairs_score() -> None:
    # the pair holds both ids, its names and birth date agree, and its score (which counts the ids' difference) is
    # certain: one source replaced the id; merged, and a finding
    out = _decide(("a", "c", 0.9999))
    assert [(p.left, p.right) for p in out.merges] == [("a", "c")]
    assert [(p.left, p.right) for p in out.id_differs] == [("a", "c")]
    assert not out.id_typos
    # in the grey band: a person decides, with the finding
    grey = _decide(("a", "c", 0.9))
    assert [(p.left, p.right) for p in grey.reviews] == [("a", "c")]
    assert [(p.left, p.right) for p in grey.id_differs] == [("a", "c")]
    rejected = _decide(("a", "c", 0.9999), rejected=(("a", "c"),))
    assert not rejected.merges
    assert not rejected.reviews


def _outright(c: dict[str, str]) -> object:
    records = dict(RECORDS, c=prepare({"last_name": "Lee", "national_id": "987654321", **c}))
    return decide([ScoredPair("a", "c", 0.9999, 0.0)], records, merge_threshold=0.99, review_threshold=0.5)


def test_ids_that_differ_outright_merge_on_the_score_when_nothing_personal_contradicts_them() -> None:
    # a birth date missing on one side is no evidence either way: the score, which counted the ids' difference at
    # its learned weight (about -1 bit where sources replace ids, about -10 where they never do), decides
    missing = _outright({"first_name": "Ann"})
    assert [(p.left, p.right) for p in missing.merges] == [("a", "c")]
    assert [(p.left, p.right) for p in missing.id_differs] == [("a", "c")]
    no_first_name = _outright({"date_of_birth": "1980-01-02"})
    assert [(p.left, p.right) for p in no_first_name.merges] == [("a", "c")]
    # a birth date that differs beside another id: a father and son of one name; a person decides
    for contradicting in ({"first_name": "Ann", "date_of_birth": "1951-07-30"}, {"date_of_birth": "1951-07-30"}):
        held = _outright(contradicting)
        assert not held.merges
        assert [(p.left, p.right) for p in held.reviews] == [("a", "c")]
    # a first name that plainly differs beside one birth date is weighed by the score, as it is without ids: the
    # score counted the ids' difference too (twins with two ids lose ~10 bits where sources never replace ids)
    replaced = _outright({"first_name": "Bob", "date_of_birth": "1980-01-02"})
    assert [(p.left, p.right) for p in replaced.merges] == [("a", "c")]
    assert [(p.left, p.right) for p in replaced.id_differs] == [("a", "c")]
    # one first name and one birth year: a date mistyped in two places, not another generation nor a partner
    one_year = _outright({"first_name": "Ann", "date_of_birth": "1980-11-23"})
    assert [(p.left, p.right) for p in one_year.merges] == [("a", "c")]
    # without the first name to say so, one birth year beside two ids is a person's to decide
    assert not _outright({"date_of_birth": "1980-11-23"}).merges
    # nothing personal to judge by at all (names and birth date both missing on one side): a person decides
    bare = _outright({})
    assert not bare.merges


def test_national_ids_one_typo_apart_go_to_review_as_a_finding_without_the_ids_weight() -> None:
    out = _decide(("a", "g", 0.99999))
    assert not out.merges
    assert [(p.left, p.right) for p in out.reviews] == [("a", "g")]
    assert [(p.left, p.right) for p in out.id_typos] == [("a", "g")]
    rejected = _decide(("a", "g", 0.99999), rejected=(("a", "g"),))
    assert not rejected.reviews


def _by_weight(weight: float, id_weight: float) -> object:
    pair = ScoredPair("a", "g", probability(weight), weight)
    return decide([pair], RECORDS, merge_threshold=0.99, review_threshold=0.5, id_weight=lambda _l, _r: id_weight)


def test_national_ids_one_typo_apart_merge_when_the_pair_is_certain_without_the_id() -> None:
    # 20 bits in all, 6 of them the id's typo level: 14 bits without it (p 0.99994) is certain
    certain = _by_weight(20.0, 6.0)
    assert [(p.left, p.right) for p in certain.merges] == [("a", "g")]
    assert [(p.left, p.right) for p in certain.id_typos] == [("a", "g")]
    assert certain.clusters["a"] == certain.clusters["g"]
    # 9 bits with the id, 3 without (p 0.89): the id's typo level alone made it certain, so a person decides
    doubtful = _by_weight(9.0, 6.0)
    assert not doubtful.merges
    assert [(p.left, p.right) for p in doubtful.reviews] == [("a", "g")]
    assert [(p.left, p.right) for p in doubtful.id_typos] == [("a", "g")]
    # ids on other records of the two clusters: the pair's own evidence says nothing of them, a person decides
    chain = [
        ScoredPair("a", "b", probability(30.0), 30.0),
        ScoredPair("b", "g", probability(25.0), 25.0),
    ]
    elsewhere = decide(chain, RECORDS, merge_threshold=0.99, review_threshold=0.5, id_weight=lambda _l, _r: 0.0)
    assert [(p.left, p.right) for p in elsewhere.merges] == [("a", "b")]
    assert [(p.left, p.right) for p in elsewhere.reviews] == [("b", "g")]
    # a third id that differs outright joins the merged pair only through a pair holding it, which weighed it
    pairs = [ScoredPair("a", "g", probability(20.0), 20.0), ScoredPair("b", "c", probability(19.0), 19.0)]
    three = decide(
        [*pairs, ScoredPair("a", "b", probability(25.0), 25.0)],
        RECORDS,
        merge_threshold=0.99,
        review_threshold=0.5,
        id_weight=lambda _l, _r: 1.0,
    )
    assert three.clusters.get("c", "c") != three.clusters["a"]


def _person_in(*ids: str) -> dict[str, dict[str, object]]:
    """One person's records in several sources, each holding the id as given."""
    person = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-02"}
    return {f"r{i}": prepare({**person, "national_id": value}) for i, value in enumerate(ids)}


def test_a_cluster_holding_a_mistyped_id_takes_a_third_by_the_ids_the_pair_holds() -> None:
    # the true id, one source with two digits swapped, another with a digit changed a thousand away
    records = _person_in("123456789", "123456798", "123457789")
    pairs = [ScoredPair("r0", "r1", probability(30.0), 30.0), ScoredPair("r1", "r2", probability(29.0), 29.0)]
    out = decide(pairs, records, merge_threshold=0.99, review_threshold=0.5, id_weight=lambda _l, _r: 6.0)
    assert len(out.merges) == 2
    assert len({out.clusters[r] for r in records}) == 1
    # the pair r1-r2 holds ids two typos apart: weighed as ids that differ, a finding of that kind
    assert [(p.left, p.right) for p in out.id_typos] == [("r0", "r1")]
    assert [(p.left, p.right) for p in out.id_differs] == [("r1", "r2")]


def test_a_third_id_in_sequence_with_one_the_cluster_holds_is_a_relatives_and_goes_to_review() -> None:
    # r2's id is nine before r0's (issued together, to a relative), though the pair r1-r2 holds ids 18 apart
    records = _person_in("123456789", "123456798", "123456780")
    pairs = [ScoredPair("r0", "r1", probability(30.0), 30.0), ScoredPair("r1", "r2", probability(29.0), 29.0)]
    out = decide(pairs, records, merge_threshold=0.99, review_threshold=0.5, id_weight=lambda _l, _r: 6.0)
    assert [(p.left, p.right) for p in out.merges] == [("r0", "r1")]
    assert [(p.left, p.right) for p in out.reviews] == [("r1", "r2")]
    assert out.clusters.get("r2", "r2") != out.clusters["r0"]


def test_household_guard_holds_plainly_different_people_for_review_unless_an_email_agrees() -> None:
    out = _decide(("a", "d", 0.9999), ("e", "f", 0.9999))
    assert [(p.left, p.right) for p in out.reviews] == [("a", "d")]
    assert out.guarded == 1
    assert [(p.left, p.right) for p in out.merges] == [("e", "f")]


def test_the_guard_tells_relatives_apart_by_evidence_not_by_any_first_name_difference() -> None:
    out = _decide(("p", "q", 0.9999), ("r", "s", 0.9999), ("t", "u", 0.9999))
    assert [(p.left, p.right) for p in out.reviews] == [("p", "q")]  # twins: one birth date and one landline
    assert {(p.left, p.right) for p in out.merges} == {("r", "s"), ("t", "u")}


def test_rejected_pairs_stay_apart_even_through_a_third() -> None:
    out = _decide(("a", "b", 0.999), ("b", "d", 0.999), rejected=(("a", "b"),))
    assert not out.merges or all({p.left, p.right} != {"a", "b"} for p in out.merges)
    out = _decide(("b", "e", 0.999), ("a", "b", 0.998), rejected=(("a", "e"),))
    assert len(out.merges) == 1
    assert out.clusters.get("a") != out.clusters.get("e")


def test_ids_one_typo_apart_with_a_birth_date_missing_merge_when_certain_on_names_and_birth_date_alone() -> None:
    # the names swapped, one birth date missing, ids two digits transposed: certain without the id (20 - 6 bits);
    # a relative of one name at one address with ids issued in sequence is certain only with the address, so what
    # counts is the weight of the prior, the names and the birth date, which no household shares
    records = dict(
        RECORDS, h=prepare({"first_name": "Lee", "last_name": "Ann", "street": "1 Elm St", "national_id": "123456798"})
    )

    def run(personal: float | None) -> object:
        return decide(
            [ScoredPair("a", "h", probability(20.0), 20.0)],
            records,
            merge_threshold=0.99,
            review_threshold=0.5,
            id_weight=lambda _l, _r: 6.0,
            personal_weight=None if personal is None else (lambda _l, _r: personal),
        )

    certain = run(15.0)
    assert [(p.left, p.right) for p in certain.merges] == [("a", "h")]
    assert [(p.left, p.right) for p in certain.id_typos] == [("a", "h")]
    for doubtful in (run(3.0), run(None)):  # names alone not certain (a namesake at one address), or not asked
        assert not doubtful.merges
        assert [(p.left, p.right) for p in doubtful.reviews] == [("a", "h")]


def test_ids_in_sequence_are_told_from_typos_by_where_and_how_far_they_differ() -> None:
    assert is_in_sequence("900006007", "900006008")  # the next id issued: a relative's
    assert is_in_sequence("900001209", "900001210")  # a carry into the digit before
    assert is_in_sequence("123456789", "123456798")  # the last two swapped, a step apart: either
    assert is_in_sequence("AB123456C", "AB123457C")
    assert not is_in_sequence("2428295", "2438295")  # a digit mistyped inside the number
    assert not is_in_sequence("7328160", "7328106")  # the last two swapped, 54 apart
    assert not is_in_sequence("5927014", "5927024")  # ten apart: no longer the last digit
    assert not is_in_sequence("123456789", "12345678")  # a digit dropped
    assert not is_in_sequence("AB123456C", "XY123457C")
    assert not is_in_sequence("ABC", "ABD")
    assert not is_in_sequence("900006007", "900006007")


def _typo_pair(left: dict[str, str], right: dict[str, str], weight: float = 20.0, id_weight: float = 12.0) -> object:
    records = {
        "l": prepare({"last_name": "Webb", "street": "18 Richards St", **left}),
        "r": prepare({"last_name": "Webb", "street": "18 Richards St", **right}),
    }
    return decide(
        [ScoredPair("l", "r", probability(weight), weight)],
        records,
        merge_threshold=0.99,
        review_threshold=0.5,
        id_weight=lambda _l, _r: id_weight,
    )


def test_ids_one_typo_apart_and_not_in_sequence_merge_on_the_score() -> None:
    # a first name replaced in one silo, the same birth date, ids with a digit mistyped inside: no family is issued
    # such ids, so the typo level counts like any other evidence (the pair is certain only with it: 20 - 12 bits)
    replaced = _typo_pair(
        {"first_name": "Talyaj", "date_of_birth": "1916-07-29", "national_id": "7328160"},
        {"first_name": "Taylah", "date_of_birth": "1916-07-29", "national_id": "7328106"},
    )
    assert [(p.left, p.right) for p in replaced.merges] == [("l", "r")]
    assert [(p.left, p.right) for p in replaced.id_typos] == [("l", "r")]
    # a birth date that differs, or one missing, beside the same first name: the same
    for born in ({"date_of_birth": "1930-12-06"}, {}):
        other = _typo_pair(
            {"first_name": "Imogen", "date_of_birth": "1936-12-18", "national_id": "4817613"},
            {"first_name": "Imogen", "national_id": "4816613", **born},
        )
        assert [(p.left, p.right) for p in other.merges] == [("l", "r")]
    # the household guard does not hold such a pair (first names differ, one birth date missing)...
    unguarded = _typo_pair(
        {"first_name": "Ethan", "national_id": "3397372"},
        {"first_name": "Spencer", "date_of_birth": "1949-05-22", "national_id": "3397732"},
    )
    assert [(p.left, p.right) for p in unguarded.merges] == [("l", "r")]
    assert unguarded.guarded == 0
    # ... and a score short of the merge threshold stays a person's to judge
    grey = _typo_pair(
        {"first_name": "Imogen", "date_of_birth": "1936-12-18", "national_id": "4817613"},
        {"first_name": "Imogen", "date_of_birth": "1930-12-06", "national_id": "4816613"},
        weight=3.0,
    )
    assert not grey.merges
    assert [(p.left, p.right) for p in grey.reviews] == [("l", "r")]


def test_ids_in_sequence_keep_relatives_at_one_address_for_review() -> None:
    # the bank's relatives: ids issued one after the other, one birth date missing or differing, certain only with
    # the address and landline; the id's typo level must not vouch for them
    for left, right in (
        ({"first_name": "Priya", "date_of_birth": "1962-04-16"}, {"first_name": "Priya"}),
        ({"first_name": "Noah", "date_of_birth": "1948-02-16"}, {"first_name": "Noah", "date_of_birth": "1984-03-18"}),
        ({"first_name": "Jorge", "date_of_birth": "1944-03-14"}, {"first_name": "Rafael"}),
    ):
        held = _typo_pair({**left, "national_id": "900003800"}, {**right, "national_id": "900003801"})
        assert not held.merges
        assert [(p.left, p.right) for p in held.reviews] == [("l", "r")]
        assert [(p.left, p.right) for p in held.id_typos] == [("l", "r")]
    # ids in sequence across a carry differ in two digits: still a relative's, not weighed as ids replaced outright
    carried = _typo_pair(
        {"first_name": "Priya", "date_of_birth": "1962-04-16", "national_id": "900003809"},
        {"first_name": "Priya", "national_id": "900003810"},
        id_weight=-1.0,
    )
    assert not carried.merges
    assert [(p.left, p.right) for p in carried.id_differs] == [("l", "r")]
    # the same person with a last digit mistyped: everything personal agrees and the pair is certain without the id
    same = _typo_pair(
        {"first_name": "Priya", "date_of_birth": "1962-04-16", "national_id": "900003800"},
        {"first_name": "Priya", "date_of_birth": "1962-04-16", "national_id": "900003801"},
        weight=30.0,
    )
    assert [(p.left, p.right) for p in same.merges] == [("l", "r")]
