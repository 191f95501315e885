"""Drives Portcullis's SCIM endpoint with scim2-client (an independent SCIM 2.0 client from
PyPI): discovery, then users and groups through create, query, replace, patch and delete.

    python3 scim2_client_check.py BASE_URL TOKEN CA_FILE

Prints one JSON line with what it did; exits non-zero on the first failure."""
import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Group, GroupMember, PatchOp, PatchOperation, User, Email, Name, ListResponse, SearchRequest

base, token, ca_file = sys.argv[1], sys.argv[2], sys.argv[3]
http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, verify=ca_file, trust_env=False)
scim = SyncSCIMClient(http)
scim.discover()
done = {"discovered": sorted(type.id for type in scim.provider.resource_types)}

created = scim.create(User(user_name="carol@example.com", name=Name(given_name="Carol", family_name="Danvers"),
                           emails=[Email(value="carol@example.com", primary=True)], active=True, external_id="ext-carol"))
assert created.id, "no id"
assert created.user_name == "carol@example.com", created
done["created_user"] = created.id

found = scim.query(User, query_parameters=SearchRequest(filter='userName eq "carol@example.com"'))
assert isinstance(found, ListResponse) and found.total_results == 1, found
fetched = scim.query(User, created.id)
assert fetched.external_id == "ext-carol", fetched
done["queried"] = True

fetched.display_name = "Captain Carol"
replaced = scim.replace(fetched)
assert replaced.display_name == "Captain Carol", replaced
done["replaced"] = True

patch = PatchOp[User](operations=[PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=False)])
patched = scim.modify(User, created.id, patch)
if patched is not None:
    assert patched.active is False, patched
assert scim.query(User, created.id).active is False
done["deactivated"] = True

group = scim.create(Group(display_name="Avengers", members=[GroupMember(value=created.id)]))
assert group.id and len(group.members or []) == 1, group
groups = scim.query(Group, query_parameters=SearchRequest(filter='displayName eq "Avengers"'))
assert groups.total_results == 1, groups
remove = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.remove, path="members", value=[{"value": created.id}])])
scim.modify(Group, group.id, remove)
assert not (scim.query(Group, group.id).members or []), "member not removed"
done["group"] = group.id

scim.delete(Group, group.id)
scim.delete(User, created.id)
missing = scim.query(User, created.id, raise_scim_errors=False)
assert getattr(missing, "status", None) in ("404", 404), missing
done["deleted"] = True
print(json.dumps(done))
