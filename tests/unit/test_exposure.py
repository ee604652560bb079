"""Exposure by meaning (libraryops.exposure): the non-global table agrees with ipaddress's public
``is_global``, and unions are judged, not strings."""

import ipaddress

import pytest

from libraryops import exposure


@pytest.mark.parametrize("version", [4, 6])
def test_every_non_global_block_is_not_global_by_ipaddress(version):
    for block in exposure.NON_GLOBAL[version]:
        assert not block.network_address.is_global, block
        assert not block[-1].is_global, block


@pytest.mark.parametrize(("sources", "public"), [
    (["0.0.0.0/0"], exposure.public_addresses(["0.0.0.0/1", "128.0.0.0/1"], 4)),
    (["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"], 0),
    (["93.184.216.0/24", "93.184.216.0/25"], 256),  # overlaps count once
    (["10.0.0.0/7"], 2 ** 24),  # 11.0.0.0/8 is public, 10.0.0.0/8 is not
])
def test_public_addresses_of_a_union(sources, public):
    assert exposure.public_addresses(sources, 4) == public


def test_the_whole_internet_is_too_public_in_any_spelling():
    assert exposure.too_public(["0.0.0.0/0"]) == exposure.too_public(["0.0.0.0/1", "128.0.0.0/1"])
    assert exposure.too_public(["::/0"]) == [exposure.too_public(["::/0"])[0]]
    assert exposure.too_public([str(n) for n in ipaddress.ip_network("0.0.0.0/0").subnets(8)])
    assert exposure.too_public(["93.184.0.0/16"]) == []
