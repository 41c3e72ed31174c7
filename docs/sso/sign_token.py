# Sign a single sign-on token on YOUR server (the secret never goes to a browser).
import time
import uuid

import jwt  # pip install pyjwt


def sign_token(secret, origin, user_id, username, name=None, email=None):
    now = int(time.time())
    claims = {"sub": str(user_id), "username": username, "name": name, "email": email}
    claims = {key: value for key, value in claims.items() if value is not None}
    claims.update(iat=now, exp=now + 300, jti=uuid.uuid4().hex, aud=origin)
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": origin})


# -- try it: FORUM_SSO_SECRET=... python sign_token.py https://news.example 42 ada
if __name__ == "__main__":
    import os
    import sys

    site, user_id, username = sys.argv[1:4]
    print(sign_token(os.environ["FORUM_SSO_SECRET"], site, user_id, username))
