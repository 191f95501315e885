#!/usr/bin/env python3
"""Builds the GeoIP test fixtures (MaxMind DB format) used by the tests and by `ip-check`.

    pip install mmdb-writer netaddr
    python3 scripts/make-test-geoip.py Tests/Fixtures/geoip

Writes:
  portcullis-test-city.mmdb  a City database (IPv6 tree, IPv4 mapped into ::/96):
      192.0.2.0/24     -> US, New York
      198.51.100.0/24  -> DE, Berlin
      203.0.113.0/24   -> AU, Sydney
      2001:db8::/32    -> JP, Tokyo
      100.64.0.0/10    -> country only (NL), no city
  portcullis-test-asn.mmdb   an ASN database for the same ranges (documentation ASNs).
"""
import os
import sys

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPSet

CITIES = [
    ("192.0.2.0/24", "US", "United States", "New York", 64496, "Example Transit NYC"),
    ("198.51.100.0/24", "DE", "Germany", "Berlin", 64497, "Example Carrier Berlin"),
    ("203.0.113.0/24", "AU", "Australia", "Sydney", 64498, "Example Networks Sydney"),
    ("2001:db8::/32", "JP", "Japan", "Tokyo", 64499, "Example Backbone Tokyo"),
]
COUNTRY_ONLY = [("100.64.0.0/10", "NL", "Netherlands")]


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    city = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="Portcullis-Test-City",
        languages=["en"],
        description="Portcullis test fixture: documentation ranges only",
    )
    for cidr, code, country, city_name, _, _ in CITIES:
        city.insert_network(
            IPSet([cidr]),
            {
                "country": {"iso_code": code, "names": {"en": country}},
                "city": {"names": {"en": city_name}},
            },
        )
    for cidr, code, country in COUNTRY_ONLY:
        city.insert_network(IPSet([cidr]), {"country": {"iso_code": code, "names": {"en": country}}})
    city.to_db_file(os.path.join(out_dir, "portcullis-test-city.mmdb"))

    asn = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="Portcullis-Test-ASN",
        languages=["en"],
        description="Portcullis test fixture: documentation ASNs only",
    )
    for cidr, _, _, _, number, organisation in CITIES:
        asn.insert_network(
            IPSet([cidr]),
            {"autonomous_system_number": MmdbU32(number), "autonomous_system_organization": organisation},
        )
    asn.to_db_file(os.path.join(out_dir, "portcullis-test-asn.mmdb"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/geoip")
