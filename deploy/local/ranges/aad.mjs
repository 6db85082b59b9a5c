// The layer's --require-aad mode: an account with local (master key) auth disabled that accepts
// only Microsoft Entra ID tokens. Requests carry `Authorization: type=aad&ver=1.0&sig=<JWT>`
// (URL-encoded, as @azure/cosmos sends it); the JWT must verify against the issuer's JWKS
// (../identity/verify_token.mjs), be for the account endpoint's audience (https://HOST[:PORT],
// the SDK's default scope) or https://cosmos.azure.com, and not be expired. Master-key and
// resource tokens get 403 as on such an account.
import { makeVerifier } from "../identity/verify_token.mjs";
import { failure } from "./routes.mjs";

/// A gate for `authority` (https://HOST:PORT/TENANT of issuer.mjs): check(headers) -> null (let through) or a failure reply.
export function makeAadGate({ authority, ca }) {
  const verifier = makeVerifier({ authority, ca });
  const stats = { accepted: 0, refused: {} };
  const refuse = (status, reason, message) => {
    stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
    return failure(status, status === 401 ? "Unauthorized" : "Forbidden", message);
  };
  return {
    stats,
    async check(headers) {
      const raw = headers.authorization;
      if (!raw) return refuse(401, "missing", "Required Header authorization is missing. Ensure a valid Authorization token is passed.");
      let decoded;
      try {
        decoded = decodeURIComponent(raw);
      } catch {
        return refuse(401, "malformed", "The authorization header is not URL-encoded text.");
      }
      const fields = new URLSearchParams(decoded);
      const type = fields.get("type");
      if (type === "master" || type === "resource") {
        return refuse(403, "local_auth", "Local Authorization is disabled. Use an AAD token to authorize all requests.");
      }
      if (type !== "aad" || fields.get("ver") !== "1.0" || !fields.get("sig")) {
        return refuse(401, "malformed", "The authorization header must be type=aad&ver=1.0&sig=<token> (URL-encoded).");
      }
      const host = String(headers.host ?? "");
      const audiences = [`https://${host}`, `https://${host.replace(/:\d+$/, "")}`, "https://cosmos.azure.com"];
      const checked = await verifier.verify(fields.get("sig"), audiences);
      if (!checked.ok) return refuse(401, checked.reason, `Request is blocked: the AAD token is not valid for this account: ${checked.message}.`);
      stats.accepted += 1;
      return null;
    },
  };
}
