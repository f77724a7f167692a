from crowdfund.domain.districts import KASSEL_DISTRICTS, slugify


def test_kassel_has_twenty_three_distinct_districts():
    assert len(KASSEL_DISTRICTS) == 23 == len(set(KASSEL_DISTRICTS))


def test_district_slugs_are_unique_ascii_with_umlauts_spelled_out():
    slugs = [slugify(name) for name in KASSEL_DISTRICTS]
    assert len(set(slugs)) == 23
    assert slugify("Süsterfeld-Helleböhn") == "suesterfeld-helleboehn"
    assert slugify("Bad Wilhelmshöhe") == "bad-wilhelmshoehe"
    assert all(s.isascii() for s in slugs)
