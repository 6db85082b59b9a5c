// What the identity fakes (issuer.mjs, vault.mjs) share: reading a request body, answering
// JSON, base64url, and listening on a port written atomically to a port file.
import fs from "node:fs";
import path from "node:path";

/// The whole request body as a Buffer.
export async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/// Answers `status` with `json` (an object) and extra headers.
export function sendJson(res, status, json, headers = {}) {
  const body = Buffer.from(JSON.stringify(json));
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(body.length),
    "cache-control": "no-store", ...headers });
  res.end(body);
}

export const b64url = (buffer) => Buffer.from(buffer).toString("base64url");

/// Decodes base64url (or plain base64) text; null when it is not that.
export function fromB64url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_\-+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), "base64url");
}

/// Writes `port` to `file` through a rename, so a reader never sees a partial file.
export function writePortFile(file, port) {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, target);
}

/// Listens on host:port; resolves with the bound port once listening, writes it to portFile.
export function listen(server, { port, host, portFile, name }) {
  server.on("error", (err) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const bound = server.address().port;
      if (portFile) writePortFile(portFile, bound);
      resolve(bound);
    });
  });
}

/// Parses a non-negative integer CLI value or exits through `fail`.
export function integerArg(fail, name, text, min, max) {
  if (!/^-?\d+$/.test(String(text)) || Number(text) < min || Number(text) > max) {
    fail(`--${name} must be an integer in [${min}, ${max}], got ${text}`);
  }
  return Number(text);
}
