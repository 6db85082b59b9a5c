// The local server behind the layer: HTTPS with its certificate verified, kept-alive connections.
import https from "node:https";

// Hop-by-hop headers and those the layer answers itself must not be forwarded as they came.
const kDropped = new Set([
  "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade",
  "x-ms-documentdb-partitionkeyrangeid", "x-ms-start-epk", "x-ms-end-epk",
]);

export class Upstream {
  /// endpoint: "https://127.0.0.1:PORT"; ca: the server's certificate (PEM).
  constructor(endpoint, ca) {
    this.url = new URL(endpoint);
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca });
  }

  /// Sends a request and buffers the answer: { status, headers, body: Buffer }.
  /// headers: the client's (hop-by-hop ones are dropped). The client's Host is kept: the server
  /// builds the account's endpoint URLs from it, which must name the layer, not the server.
  send(method, target, headers, body) {
    const out = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!kDropped.has(name.toLowerCase()) && value !== undefined) out[name] = value;
    }
    const payload = body && body.length ? body : null;
    if (payload) out["content-length"] = String(payload.length);
    return new Promise((resolve, reject) => {
      const request = https.request(
        {
          protocol: "https:",
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path: target,
          headers: out,
          agent: this.agent,
          servername: "localhost",
        },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () =>
            resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }),
          );
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(payload ?? undefined);
    });
  }

  /// GET of a JSON resource for the layer's own use (the server checks no authorization).
  async getJson(target) {
    const reply = await this.send("GET", target, { accept: "application/json" }, null);
    if (reply.status !== 200) {
      throw new Error(`GET ${target} answered ${reply.status}: ${reply.body.toString().slice(0, 200)}`);
    }
    return JSON.parse(reply.body.toString());
  }

  close() {
    this.agent.destroy();
  }
}
