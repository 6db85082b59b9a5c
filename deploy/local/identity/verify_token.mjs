// Checks Entra ID bearer tokens as a resource server does: RS256 signature against the issuer's
// JWKS (found through its OIDC discovery document, fetched once and again only for an unknown
// kid), issuer, audience, expiry and not-before. Used by vault.mjs and the ranges layer's
// --require-aad; issuer.mjs uses decodeJwt/verifySignature for federated assertions.
//
//   import { makeVerifier } from "./verify_token.mjs";
//   const verifier = makeVerifier({ authority: "https://127.0.0.1:PORT/TENANT", ca });
//   const r = await verifier.verify(token, ["https://vault.azure.net"]);
//   // r = { ok: true, claims } | { ok: false, reason: "expired" | "audience" | ..., message }
import crypto from "node:crypto";
import https from "node:https";

/// Splits a compact JWT into { header, claims, signed, signature }; null when it is not one.
export function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], "base64url").toString()),
      claims: JSON.parse(Buffer.from(parts[1], "base64url").toString()),
      signed: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: Buffer.from(parts[2], "base64url"),
    };
  } catch {
    return null;
  }
}

/// Whether an RS256 token's signature verifies with the JWK `jwk`.
export function verifySignature(decoded, jwk) {
  if (decoded.header.alg !== "RS256") return false;
  try {
    const key = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: "jwk" });
    return crypto.verify("sha256", decoded.signed, key, decoded.signature);
  } catch {
    return false;
  }
}

function getJson(url, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...(ca ? { ca } : {}), timeout: 10_000 }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(new Error(`GET ${url}: ${err.message}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on("error", reject);
  });
}

/// A verifier for tokens of `authority` (https://HOST:PORT/TENANT); `ca` is the issuer's CA (PEM) if not the default trust.
export function makeVerifier({ authority, ca, clockSkewS = 0 }) {
  const base = authority.replace(/\/+$/, "");
  let loaded = null; // Promise<{ issuer, keys: Map<kid, jwk> }>
  const load = () => {
    loaded = (async () => {
      const config = await getJson(`${base}/v2.0/.well-known/openid-configuration`, ca);
      const jwks = await getJson(config.jwks_uri, ca);
      return { issuer: config.issuer, keys: new Map(jwks.keys.map((k) => [k.kid, k])) };
    })();
    loaded.catch(() => (loaded = null)); // a failed fetch is tried again on the next token
    return loaded;
  };

  return {
    /// Checks `token` for one of `audiences`.
    async verify(token, audiences) {
      const decoded = decodeJwt(token);
      if (!decoded) return { ok: false, reason: "malformed", message: "the token is not a JWT" };
      let meta = await (loaded ?? load());
      if (!meta.keys.has(decoded.header.kid)) meta = await load();
      const jwk = meta.keys.get(decoded.header.kid);
      if (!jwk || !verifySignature(decoded, jwk)) return { ok: false, reason: "signature", message: "the token's signature does not verify with the issuer's keys" };
      const { claims } = decoded;
      if (claims.iss !== meta.issuer) return { ok: false, reason: "issuer", message: `the token's issuer ${claims.iss} is not ${meta.issuer}` };
      if (!audiences.includes(claims.aud)) {
        return { ok: false, reason: "audience", message: `the token's audience ${claims.aud} is not ${audiences.join(" or ")}` };
      }
      const now = Math.floor(Date.now() / 1000);
      if (typeof claims.exp !== "number" || claims.exp + clockSkewS <= now) {
        return { ok: false, reason: "expired", message: `the token expired at ${new Date(claims.exp * 1000).toISOString()}` };
      }
      if (typeof claims.nbf === "number" && claims.nbf - clockSkewS > now) {
        return { ok: false, reason: "not_yet_valid", message: `the token is not valid before ${new Date(claims.nbf * 1000).toISOString()}` };
      }
      return { ok: true, claims };
    },
  };
}
