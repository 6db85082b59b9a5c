#!/usr/bin/env node
// Launches @vercel/cosmosdb-server over HTTPS with keep-alive on and a certificate we
// generated (the package's bundled one is CN=cosmosdb and expired), so clients verify TLS.
//
//   node server.mjs --cert F --key F [--port 0] [--host 127.0.0.1] [--port-file F]
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { closeOnSignals } from "./shutdown.mjs";

const require = createRequire(import.meta.url);
// The package is CommonJS: module.exports = { createHttpServer, createHttpsServer, default }.
const { createHttpsServer } = require("@vercel/cosmosdb-server");

const usage =
  "usage: node server.mjs --cert FILE --key FILE [--port 0] [--host 127.0.0.1] [--port-file FILE]";

function fail(message) {
  process.stderr.write(`server.mjs: ${message}\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      cert: { type: "string" },
      key: { type: "string" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "port-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  fail(err.message);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!args.cert || !args.key) fail("--cert and --key are required");
if (!/^\d+$/.test(args.port) || Number(args.port) > 65535) fail(`bad --port: ${args.port}`);

let cert;
let key;
try {
  cert = fs.readFileSync(args.cert);
  key = fs.readFileSync(args.key);
} catch (err) {
  fail(err.message);
}

const server = createHttpsServer({ cert, key, keepAlive: true });
// Keep idle client connections open a while (clients pool them); Node's default is 5 s.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

function writePortFile(file, port) {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, file);
}

server.on("error", (err) => {
  process.stderr.write(`server.mjs: ${err.message}\n`);
  process.exit(1);
});

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  if (args["port-file"]) writePortFile(args["port-file"], port);
  const shownHost = args.host.includes(":") ? `[${args.host}]` : args.host;
  process.stdout.write(`listening https://${shownHost}:${port}\n`);
});

closeOnSignals(server, "server.mjs");
