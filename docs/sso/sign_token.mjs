// Sign a single sign-on token on YOUR server (Node 16+, no libraries).
import { createHmac, randomUUID } from "node:crypto";

const part = (object) => Buffer.from(JSON.stringify(object)).toString("base64url");

export function signToken(secret, origin, user) {
  const now = Math.floor(Date.now() / 1000);
  const header = part({ alg: "HS256", typ: "JWT", kid: origin });
  const claims = part({ sub: String(user.id), username: user.username, name: user.name,
    email: user.email, iat: now, exp: now + 300, jti: randomUUID(), aud: origin });
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}

// -- try it: FORUM_SSO_SECRET=... node sign_token.mjs https://news.example 42 ada
import { pathToFileURL } from "node:url";

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [site, id, username] = process.argv.slice(2);
  console.log(signToken(process.env.FORUM_SSO_SECRET, site, { id, username }));
}
