// Checks deploy/Dockerfile without a Docker daemon: the build stage installs only packages of
// deploy/setup.sh's list; the runtime stage installs exactly the packages that own the shared
// libraries the built daemon links (ldd + dpkg -S on this Debian machine), beyond those of the
// base image; it runs as the numeric non-root uid the Helm chart expects, with the state
// directory as a volume; serve's manifest directory is where the shipped manifests are;
// .dockerignore lets through everything the build stage copies.
//   node dockerfile_check.mjs BACKFILLD SOURCE_DIR       (exit 77: not a Debian machine)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import assert from "node:assert/strict";

const [backfilld, src] = process.argv.slice(2).map((p) => p && resolve(p));
if (!backfilld || !src) { console.error("usage: node dockerfile_check.mjs BACKFILLD SOURCE_DIR"); process.exit(2); }
const YAML = createRequire(`${src}/deploy/tools/package.json`)("yaml");
const run = (cmd, args) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
try { run("dpkg", ["--version"]); } catch { console.log("SKIP: no dpkg, runtime libraries not checked"); process.exit(77); }

// Instructions per stage, continuation lines joined, comments dropped.
const lines = readFileSync(`${src}/deploy/Dockerfile`, "utf8").replace(/\\\n/g, " ").split("\n")
  .map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));
const stages = {};
let stage = null;
const base = /^ARG DEBIAN=(\S+)/.exec(lines.find((l) => l.startsWith("ARG DEBIAN=")) ?? "")?.[1];
for (const line of lines) {
  const from = /^FROM (\S+) AS (\w+)$/i.exec(line);
  if (from) { stage = stages[from[2]] = { from: from[1], lines: [] }; continue; }
  if (stage) stage.lines.push(line);
}
const aptPackages = (s) => s.lines.filter((l) => l.startsWith("RUN") && l.includes("apt-get install"))
  .flatMap((l) => l.split("apt-get install")[1].split("&&")[0].trim().split(/\s+/).filter((w) => !w.startsWith("-")));
let checks = 0;
const check = (name, fn) => { fn(); checks++; console.log(`ok ${name}`); };

check("two stages on Debian bookworm", () => {
  assert.match(base, /^debian:bookworm/);
  assert.deepEqual(Object.keys(stages), ["build", "runtime"]);
  for (const s of Object.values(stages)) assert.equal(s.from, "${DEBIAN}");
});

check("build stage: packages of deploy/setup.sh only, the daemon only, optimised and stripped", () => {
  const setup = readFileSync(`${src}/deploy/setup.sh`, "utf8");
  const listed = /packages=\(([^)]*)\)/.exec(setup)[1].split(/\s+/).filter(Boolean);
  const build = aptPackages(stages.build);
  assert.ok(build.length > 0);
  for (const p of build) assert.ok(listed.includes(p), `${p} is not in deploy/setup.sh's list`);
  const cmake = stages.build.lines.find((l) => l.includes("cmake --build"));
  assert.match(cmake, /--target backfilld\b/);
  assert.match(cmake, /-DCMAKE_BUILD_TYPE=RelWithDebInfo/, "the optimised configuration the tests run");
  assert.match(cmake, /strip \/build\/daemon\/backfilld/);
});

check("runtime stage: exactly the packages owning the daemon's shared libraries", () => {
  // Present in every debian:bookworm(-slim) image (libc6 is essential; apt needs libstdc++6 and libgcc-s1).
  const inBase = new Set(["libc6", "libgcc-s1", "libstdc++6"]);
  const libraries = run("ldd", [backfilld]).split("\n").map((l) => /=> (\/\S+)/.exec(l)?.[1]).filter(Boolean);
  const needed = new Set();
  // dpkg knows a file by the path its package installed (merged /usr: /lib/... or /usr/lib/...).
  const owner = (library) => {
    const real = run("readlink", ["-f", library]).trim();
    for (const path of new Set([library, real, real.replace(/^\/usr/, ""), library.replace(/^\/usr/, "")])) {
      try { return run("dpkg", ["-S", path]).split(":")[0]; } catch { /* try the next spelling */ }
    }
    assert.fail(`no Debian package owns ${library}`);
  };
  for (const library of libraries) needed.add(owner(library));
  const runtime = new Set(aptPackages(stages.runtime));
  for (const p of needed) assert.ok(inBase.has(p) || runtime.has(p), `the daemon links a library of ${p}, not installed at run time`);
  for (const p of runtime) {
    if (p === "ca-certificates") continue; // Cosmos DB's TLS chain
    assert.ok(needed.has(p), `${p} is installed at run time but the daemon links nothing of it`);
  }
  assert.ok(runtime.has("ca-certificates"));
  for (const p of aptPackages(stages.runtime)) assert.ok(!/-dev$/.test(p), `${p}: no -dev package at run time`);
  console.log(`   linked: ${[...needed].sort().join(" ")}`);
});

check("runtime stage: numeric non-root user of the chart, state directory a volume", () => {
  const r = stages.runtime.lines;
  const user = /^USER (\d+):(\d+)$/.exec(r.find((l) => l.startsWith("USER")))?.slice(1).map(Number);
  assert.ok(user && user[0] > 0 && user[1] > 0, "USER uid:gid, numeric and not 0");
  const values = YAML.parse(readFileSync(`${src}/helm/backfilld/values.yaml`, "utf8"));
  assert.equal(values.securityContext.runAsUser, user[0], "the chart runs as the image's user");
  assert.equal(values.securityContext.runAsGroup, user[1]);
  assert.match(r.find((l) => l.startsWith("VOLUME")), /"\/var\/lib\/backfilld"/);
  assert.match(r.find((l) => l.startsWith("ENV")), /BACKFILLD_STATE_DIR=\/var\/lib\/backfilld/);
  assert.match(r.find((l) => l.includes("install -d")), new RegExp(`-o ${user[0]} -g ${user[1]} .*/var/lib/backfilld`));
  assert.ok(r.some((l) => l.startsWith("ENTRYPOINT")));
});

check("runtime stage: serve finds the shipped manifests by name (BACKFILLD_MANIFEST_DIR)", () => {
  const r = stages.runtime.lines;
  const env = Object.fromEntries(r.filter((l) => l.startsWith("ENV ")).flatMap((l) => l.slice(4).trim().split(/\s+/))
    .map((pair) => pair.split("=")));
  // The variable serve reads for --manifest-dir (a rename in the daemon must show here).
  assert.match(readFileSync(`${src}/daemon/cli/serve_command.cpp`, "utf8"), /env\("BACKFILLD_MANIFEST_DIR"\)/);
  const shipped = r.filter((l) => /^COPY (?!--from)\S*migrations\/\S+\.json /.test(l)).map((l) => l.split(/\s+/)[2]);
  assert.ok(shipped.length > 0, "the image ships a manifest");
  for (const path of shipped) {
    assert.equal(dirname(path), env.BACKFILLD_MANIFEST_DIR,
      `${path} is shipped but serve's manifest directory is ${env.BACKFILLD_MANIFEST_DIR ?? "unset"} (a manifestPath gets 403)`);
  }
});

check(".dockerignore lets through what the build copies, nothing else", () => {
  const rules = readFileSync(`${src}/.dockerignore`, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  assert.equal(rules[0], "*", "allow-list: everything is excluded first");
  const allowed = rules.filter((r) => r.startsWith("!")).map((r) => r.slice(1).replace(/\/$/, ""));
  const copied = Object.values(stages).flatMap((s) => s.lines).filter((l) => /^COPY (?!--from)/.test(l))
    .map((l) => l.split(/\s+/)[1].replace(/\/$/, "").split("/")[0]);
  for (const path of copied) assert.ok(allowed.includes(path), `COPY ${path}: excluded by .dockerignore`);
  assert.ok(rules.includes("**/node_modules") && rules.includes("**/*.pem"));
});

console.log(`${checks} Dockerfile checks passed`);
