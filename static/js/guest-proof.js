// A guest's proof of work (forum.services.accounts.proof): fetch a challenge,
// count nonces until SHA-256("<challenge>:<nonce>") starts with `bits` zero
// bits, and hand both back for the comment. A few hundred milliseconds, off the
// main path: the search yields between batches so typing never stalls.
// Without Web Crypto (a page served over plain http from a non-local name) it
// resolves to null: the comment is still taken, and waits for a moderator.

const BATCH = 256;

function zeroBits(buffer) {
  const bytes = new Uint8Array(buffer);
  let count = 0;
  for (const byte of bytes) {
    if (byte === 0) { count += 8; continue; }
    return count + Math.clz32(byte) - 24;
  }
  return count;
}

async function solve(challenge, bits) {
  const encoder = new TextEncoder();
  for (let start = 0; start < 1 << 30; start += BATCH) {
    const tries = [];
    for (let nonce = start; nonce < start + BATCH; nonce += 1) {
      tries.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + nonce)));
    }
    const digests = await Promise.all(tries);
    const found = digests.findIndex((digest) => zeroBits(digest) >= bits);
    if (found !== -1) return String(start + found);
  }
  return null;
}

// The proof for one comment: {challenge, nonce}, or null when none can be made.
export async function makeProof(challengeUrl) {
  if (!window.crypto || !crypto.subtle) return null;
  try {
    const response = await fetch(challengeUrl, { credentials: "omit" });
    if (!response.ok) return null;
    const { challenge, bits } = await response.json();
    const nonce = await solve(challenge, bits);
    return nonce === null ? null : { challenge, nonce };
  } catch (error) {
    return null;
  }
}

// A form's proof, started once (when the guest first types in it) and kept
// until the form is sent; each sent form starts a fresh one (they work once).
export function proofFor(form) {
  if (!form.proofPromise) form.proofPromise = makeProof(form.dataset.challenge);
  return form.proofPromise;
}

export function forgetProof(form) {
  delete form.proofPromise;
}

// The form's CSRF token. A page shared by every visitor without a session has
// an empty one: ask for this visitor's (GET /api/v1/session starts the session).
export async function tokenFor(form) {
  const input = form.querySelector("input[name=csrf_token][data-session]");
  if (!input || input.value) return;
  if (!form.tokenPromise) {
    form.tokenPromise = fetch(input.dataset.session, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((answer) => { input.value = answer.csrf_token; })
      .catch(() => { delete form.tokenPromise; });
  }
  await form.tokenPromise;
}
