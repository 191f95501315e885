"""Drives Portcullis's SCIM endpoint with scim2-client (an independent SCIM 2.0 client from
PyPI): discovery, then users (with the enterprise extension) and groups through create, query,
.search (per type and at the root), replace, PATCH and delete.

    python3 scim2_client_check.py BASE_URL TOKEN CA_FILE

Prints one JSON line with what it did; exits non-zero on the first failure."""
import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (EnterpriseUser, Group, GroupMember, ListResponse, Manager, Name, Email, PatchOp, PatchOperation,
                          SearchRequest, User)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
base, token, ca_file = sys.argv[1], sys.argv[2], sys.argv[3]
http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, verify=ca_file, trust_env=False)
scim = SyncSCIMClient(http)
scim.discover()
done = {"discovered": sorted(type.id for type in scim.provider.resource_types)}

Enterprise = User[EnterpriseUser]
boss = scim.create(Enterprise(user_name="nick@example.com", name=Name(given_name="Nick", family_name="Fury")))
carol = Enterprise(user_name="carol@example.com", name=Name(given_name="Carol", family_name="Danvers"),
                   emails=[Email(value="carol@example.com", primary=True)], active=True, external_id="ext-carol")
carol[EnterpriseUser] = EnterpriseUser(department="Avengers", employee_number="1968", manager=Manager(value=boss.id))
created = scim.create(carol)
assert created.id, "no id"
assert created.user_name == "carol@example.com", created
assert created[EnterpriseUser].department == "Avengers", created
assert created[EnterpriseUser].manager.value == boss.id, created
assert created.meta.version, created
done["created_user"] = created.id
done["enterprise"] = True

found = scim.query(User, query_parameters=SearchRequest(filter='userName eq "carol@example.com"'))
assert isinstance(found, ListResponse) and found.total_results == 1, found
fetched = scim.query(Enterprise, created.id)
assert fetched.external_id == "ext-carol", fetched
done["queried"] = True

searched = scim.search(Enterprise, SearchRequest(filter=f'{ENTERPRISE}:department eq "avengers" and name.familyName sw "Dan"',
                                                 attributes=["userName"]))
assert isinstance(searched, ListResponse) and searched.total_results == 1, searched
assert searched.resources[0].user_name == "carol@example.com", searched
everything = scim.search(search_request=SearchRequest(filter='userName sw "nick" or displayName pr', sort_by="meta.created"))
assert isinstance(everything, ListResponse) and everything.total_results == 1, everything
done["searched"] = True

fetched.display_name = "Captain Carol"
replaced = scim.replace(fetched)
assert replaced.display_name == "Captain Carol", replaced
assert replaced[EnterpriseUser].department == "Avengers", replaced
done["replaced"] = True

patch = PatchOp[Enterprise](operations=[
    PatchOperation[Enterprise](op=PatchOperation.Op.replace_, path="name.givenName", value="Carol Susan"),
    PatchOperation[Enterprise](op=PatchOperation.Op.replace_, path=f"{ENTERPRISE}:department", value="Starforce"),
    PatchOperation[Enterprise](op=PatchOperation.Op.add, path="title", value="Captain"),
])
patched = scim.modify(Enterprise, created.id, patch)
after = scim.query(Enterprise, created.id)
assert after.name.given_name == "Carol Susan" and after.name.family_name == "Danvers", after
assert after[EnterpriseUser].department == "Starforce" and after.title == "Captain", after
done["patched"] = True

patch = PatchOp[User](operations=[PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=False)])
patched = scim.modify(User, created.id, patch)
if patched is not None:
    assert patched.active is False, patched
assert scim.query(User, created.id).active is False
done["deactivated"] = True

group = scim.create(Group(display_name="Avengers", members=[GroupMember(value=created.id)]))
assert group.id and [member.value for member in group.members or []] == [created.id], group
groups = scim.query(Group, query_parameters=SearchRequest(filter='displayName eq "Avengers"'))
assert groups.total_results == 1, groups
add = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.add, path="members", value=[{"value": boss.id}])])
scim.modify(Group, group.id, add)
assert sorted(member.value for member in scim.query(Group, group.id).members or []) == sorted([created.id, boss.id])
remove = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.remove, path=f'members[value eq "{boss.id}"]')])
scim.modify(Group, group.id, remove)
remove = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.remove, path="members", value=[{"value": created.id}])])
scim.modify(Group, group.id, remove)
assert not (scim.query(Group, group.id).members or []), "members not removed"
group_search = scim.search(Group, SearchRequest(filter='displayName sw "aven"', excluded_attributes=["members"]))
assert group_search.total_results == 1, group_search
done["group"] = group.id

scim.delete(Group, group.id)
scim.delete(User, created.id)
scim.delete(User, boss.id)
missing = scim.query(User, created.id, raise_scim_errors=False)
assert getattr(missing, "status", None) in ("404", 404), missing
done["deleted"] = True
print(json.dumps(done))
