"""Runs oidc-provider-mock (PyPI) configured as many real providers behave: the ID token
carries the subject and the registered claims only, and email, name, groups and department
come from the UserInfo endpoint. Whether `email_verified` is sent is up to the user claims
given (the tests give none, as Entra ID, GitHub-style and many custom providers do).

    python3 oidc_provider_userinfo_only.py [oidc-provider-mock options…]
"""
import sys

from oidc_provider_mock import _app
from oidc_provider_mock.__main__ import run


def id_token_claims(self, user, scope):
    # The ID token names the subject; everything else is left to UserInfo.
    return {"sub": user.sub}


_app.OpenIDCode.generate_user_info = id_token_claims

if __name__ == "__main__":
    sys.argv = ["oidc_provider_mock", *sys.argv[1:]]
    run()
