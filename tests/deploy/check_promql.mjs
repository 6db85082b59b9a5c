// Evaluates every PromQL expression of the Grafana dashboard and of the alert rules through a
// running Prometheus's HTTP API. Fails when one returns an error, when a dashboard target returns
// no series, when the job variable does not list the job, or when Prometheus's own evaluation of
// a rule reports an error, or when an alert condition holds (the run it looks at is healthy).
//   node check_promql.mjs --prometheus URL --dashboard JSON --rules YAML --job ID --start UNIX_S
// Grafana's variables are substituted as Grafana would for this test's 1 s scrape interval.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    prometheus: { type: "string" }, dashboard: { type: "string" }, rules: { type: "string" },
    job: { type: "string" }, start: { type: "string" },
  },
});
for (const name of ["prometheus", "dashboard", "rules", "job", "start"]) {
  if (!args[name]) { console.error(`check_promql.mjs: --${name} is required`); process.exit(2); }
}
const here = dirname(fileURLToPath(import.meta.url));
const YAML = createRequire(resolve(here, "../../deploy/tools/package.json"))("yaml");

const end = Date.now() / 1000;
const start = Number(args.start);
const variables = {
  job: args.job.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
  __rate_interval: "4s", // Grafana: max(4 x scrape interval, interval + scrape interval)
  __interval: "1s",
  __range: `${Math.ceil(end - start)}s`,
};
const substitute = (expr) => expr.replace(/\$\{?(\w+)\}?/g, (whole, name) => {
  if (!(name in variables)) throw new Error(`unknown variable ${whole} in ${expr}`);
  return variables[name];
});

async function api(path, params) {
  const response = await fetch(`${args.prometheus}${path}?${new URLSearchParams(params)}`);
  const body = await response.json();
  if (body.status !== "success") throw new Error(`${body.errorType}: ${body.error}`);
  return body.data;
}

let failures = 0;
const fail = (what, why) => { failures++; console.log(`FAIL ${what}: ${why}`); };

const dashboard = JSON.parse(readFileSync(args.dashboard, "utf8"));
const variable = dashboard.templating.list.find((v) => v.name === "job");
const [, metric, label] = /^label_values\((\w+),\s*(\w+)\)$/.exec(variable.query.query);
const jobs = await api(`/api/v1/label/${label}/values`, { "match[]": metric });
if (jobs.includes(args.job)) console.log(`ok variable job: ${jobs.length} value(s), ${args.job} among them`);
else fail("variable job", `${args.job} not in ${JSON.stringify(jobs)}`);

let targets = 0;
for (const panel of dashboard.panels) {
  for (const target of panel.targets ?? []) {
    targets++;
    const what = `panel "${panel.title}" ${target.refId}`;
    try {
      const query = substitute(target.expr);
      const data = target.instant
        ? await api("/api/v1/query", { query, time: end })
        : await api("/api/v1/query_range", { query, start, end, step: 1 });
      if (data.result.length === 0) fail(what, `no series: ${query}`);
      else console.log(`ok ${what}: ${data.result.length} series (${target.instant ? "instant" : "range"})`);
    } catch (error) {
      fail(what, error.message);
    }
  }
}

const groups = YAML.parse(readFileSync(args.rules, "utf8")).groups;
let rules = 0;
for (const rule of groups.flatMap((group) => group.rules)) {
  rules++;
  try {
    // The daemon is up and its job succeeded: no alert condition may hold.
    const data = await api("/api/v1/query", { query: rule.expr, time: end });
    if (data.result.length > 0) fail(`rule ${rule.alert}`, `holds on a healthy run: ${JSON.stringify(data.result)}`);
    else console.log(`ok rule ${rule.alert}: evaluates, does not hold`);
  } catch (error) {
    fail(`rule ${rule.alert}`, error.message);
  }
}
// Prometheus evaluates the loaded rules itself every second: none may report an error.
const loaded = (await api("/api/v1/rules", {})).groups.flatMap((group) => group.rules);
if (loaded.length !== rules) fail("rules", `Prometheus loaded ${loaded.length} rules, the file has ${rules}`);
for (const rule of loaded) {
  if (rule.health !== "ok") fail(`rule ${rule.name} in Prometheus`, `health ${rule.health}: ${rule.lastError}`);
}

console.log(`${targets} dashboard targets, ${rules} alert rules evaluated; ${failures} failure(s)`);
process.exit(failures ? 1 : 0);
