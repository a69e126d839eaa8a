import pytest

from prip_ray.errors import InvalidQuery
from prip_ray.odata.options import parse_query_options


def parse(**params: str):  # type: ignore[no-untyped-def]
    return parse_query_options(params, default_top=20, max_top=1000, max_skip=10000)


def test_defaults_and_custom_options_are_ignored() -> None:
    options = parse(**{"foo": "bar", "api_key": "x"})
    assert (options.top, options.skip, options.count, options.filter) == (20, 0, False, None)
    assert options.orderby == () and options.expand == frozenset() and options.select is None


def test_every_system_option() -> None:
    options = parse(
        **{
            "$filter": "contains(Name,'L0')",
            "$orderby": "ContentDate/Start desc, Name",
            "$top": "1000",
            "$skip": "40",
            "$count": "true",
            "$expand": "Attributes,Quicklooks",
            "$select": "Id,Name,ContentLength",
            "$format": "json",
        }
    )
    assert options.orderby == (("ContentDate/Start", True), ("Name", False))
    assert (options.top, options.skip, options.count) == (1000, 40, True)
    assert options.expand == {"Attributes", "Quicklooks"}
    assert options.select == ("Id", "Name", "ContentLength")


@pytest.mark.parametrize(
    ("params", "token"),
    [
        ({"$top": "1001"}, "1001"),
        ({"$top": "-1"}, "-1"),
        ({"$top": "ten"}, "ten"),
        ({"$skip": "10001"}, "10001"),
        ({"$top": "٣"}, "٣"),  # int() reads Arabic-Indic digits; OData does not
        ({"$top": "²"}, "²"),  # isdigit() says yes, int() raises
        ({"$skip": "٣"}, "٣"),
        ({"$top": "9" * 5000}, "9" * 5000),  # more digits than int() converts
        ({"$skip": "99999999999999999999999"}, "99999999999999999999999"),
        ({"$count": "yes"}, "yes"),
        ({"$orderby": "Footprint asc"}, "Footprint"),
        ({"$orderby": "Name upward"}, "Name upward"),
        ({"$expand": "Owner"}, "Owner"),
        ({"$select": "Password"}, "Password"),
        ({"$format": "xml"}, "xml"),
        ({"$search": "S2B"}, "$search"),
    ],
)
def test_bad_options_name_their_token(params: dict[str, str], token: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse(**params)
    assert caught.value.token == token
