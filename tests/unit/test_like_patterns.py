"""OData string functions as LIKE patterns: the argument is matched literally."""

from prip_ray.db.search.likes import like_pattern


def test_wildcards_and_the_escape_character_are_escaped() -> None:
    assert like_pattern("startswith", "S2B_OPER") == "S2B\\_OPER%"
    assert like_pattern("contains", "50%") == "%50\\%%"
    assert like_pattern("endswith", "a\\b") == "%a\\\\b"
