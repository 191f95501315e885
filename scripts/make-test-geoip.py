#!/usr/bin/env python3
"""Builds the GeoIP test fixtures (MaxMind DB format) used by the tests and by `ip-check`.

    pip install mmdb-writer netaddr
    python3 scripts/make-test-geoip.py Tests/Fixtures/geoip

Writes:
  portcullis-test-city.mmdb  a City database (IPv6 tree, IPv4 mapped into ::/96):
      192.0.2.0/24     -> US, New York  (40.71, -74.01, accuracy radius 20 km)
      198.51.100.0/24  -> DE, Berlin    (52.52, 13.41, 20 km)
      203.0.113.0/24   -> AU, Sydney    (-33.87, 151.21, 20 km)
      2001:db8::/32    -> JP, Tokyo     (35.68, 139.65, 50 km)
      100.64.0.0/10    -> country only (NL), no city
  portcullis-test-asn.mmdb   an ASN database for the same ranges (documentation ASNs).
"""
import os
import sys

from mmdb_writer import MMDBWriter, MmdbU16, MmdbU32
from netaddr import IPSet

CITIES = [
    ("192.0.2.0/24", "US", "United States", "New York", 64496, "Example Transit NYC", (40.7128, -74.0060, 20)),
    ("198.51.100.0/24", "DE", "Germany", "Berlin", 64497, "Example Carrier Berlin", (52.5200, 13.4050, 20)),
    ("203.0.113.0/24", "AU", "Australia", "Sydney", 64498, "Example Networks Sydney", (-33.8688, 151.2093, 20)),
    ("2001:db8::/32", "JP", "Japan", "Tokyo", 64499, "Example Backbone Tokyo", (35.6762, 139.6503, 50)),
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
    for cidr, code, country, city_name, _, _, (latitude, longitude, radius) in CITIES:
        city.insert_network(
            IPSet([cidr]),
            {
                "country": {"iso_code": code, "names": {"en": country}},
                "city": {"names": {"en": city_name}},
                "location": {"latitude": latitude, "longitude": longitude, "accuracy_radius": MmdbU16(radius)},
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
    for cidr, _, _, _, number, organisation, _ in CITIES:
        asn.insert_network(
            IPSet([cidr]),
            {"autonomous_system_number": MmdbU32(number), "autonomous_system_organization": organisation},
        )
    asn.to_db_file(os.path.join(out_dir, "portcullis-test-asn.mmdb"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/geoip")
