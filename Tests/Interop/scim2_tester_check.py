"""Runs scim2-tester (an independent SCIM 2.0 compliance checker from PyPI, the python-scim
project's) against Portcullis's SCIM endpoint: discovery, then every resource type through
creation, query (attributes and excludedAttributes), replacement, PATCH add/replace/remove and
deletion, with values generated from the schemas the server publishes.

    python3 scim2_tester_check.py BASE_URL TOKEN CA_FILE

Prints one JSON line: how many checks ran, how many passed, and every check that did not
(status, title, resource type, reason). Exits non-zero when any check ends in ERROR or CRITICAL.
"""
import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

base, token, ca_file = sys.argv[1], sys.argv[2], sys.argv[3]
http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, verify=ca_file, trust_env=False)
client = SyncSCIMClient(http)
results = check_server(client)

good = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
failures = [
    {"status": result.status.name, "title": result.title, "type": result.resource_type, "reason": (result.reason or "")[:300]}
    for result in results
    if result.status not in good and result.status != Status.SKIPPED
]
summary = {
    "checks": len(results),
    "passed": sum(1 for result in results if result.status in good),
    "skipped": sum(1 for result in results if result.status == Status.SKIPPED),
    "failures": failures,
}
print(json.dumps(summary))
sys.exit(1 if any(f["status"] in ("ERROR", "CRITICAL") for f in failures) else 0)
