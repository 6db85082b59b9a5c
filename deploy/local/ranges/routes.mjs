// Request routing of the ranges layer: which range a request belongs to, splits (410/1002),
// throttling (429/3200), request charges, and the resources the local server lacks (pkranges
// with K ranges, query plans, offers). Everything else passes through to the server unchanged.
import * as cost from "./charge.mjs";
import { epkOfHeader, inRange } from "./epk.mjs";
import { applyOffer, offerOf, queryOffers } from "./offers.mjs";
import { pinnedKind, queryPlan, servePinned, unwrapContinuation } from "./query.mjs";
import { Collection } from "./ranges.mjs";
import { uaClass, UsageTimeline } from "./usage.mjs";

const isTrue = (value) => String(value ?? "").toLowerCase() === "true";

/// An answer the layer makes itself: { status, headers, json, charge }.
function answer(status, json, headers = {}, charge = 0) {
  return { status, headers, json, charge };
}

/// An error shaped as the service's ({code, message}), with x-ms-substatus when given.
export function failure(status, code, message, substatus, extra = {}) {
  const headers = { ...extra };
  if (substatus) headers["x-ms-substatus"] = String(substatus);
  return answer(status, { code, message }, headers);
}

export class Router {
  /// options: { upstream, ranges: K, throughput: {offerThroughput, autoscaleMax?}, splitAfter }
  constructor(options) {
    this.options = options;
    this.upstream = options.upstream;
    this.collections = new Map(); // "dbs/db/colls/coll" -> Promise<Collection>
    this.stats = { requests: 0, routed: 0, throttled: 0, gone: 0, byOperation: {}, splits: [] };
    this.usage = new Map(); // "dbs/db/colls/coll" -> UsageTimeline of its document requests
  }

  /// The RU timeline of a container link (created on first use; kept across a re-creation).
  timeline(link) {
    if (!this.usage.has(link)) this.usage.set(link, new UsageTimeline());
    return this.usage.get(link);
  }

  /// The Collection of a link, created from the server's container resource on first use.
  collection(link) {
    if (!this.collections.has(link)) {
      const made = this.upstream.getJson(`/${link.split("/").map(encodeURIComponent).join("/")}`).then(
        (info) => new Collection(link, info, this.options.ranges, { ...this.options.throughput }),
      );
      made.catch(() => this.collections.delete(link));
      this.collections.set(link, made);
    }
    return this.collections.get(link);
  }

  /// Every container of the account (for GET /offers), read from the server.
  async allCollections() {
    const { Databases: dbs } = await this.upstream.getJson("/dbs");
    const out = [];
    for (const db of dbs) {
      const { DocumentCollections: colls } = await this.upstream.getJson(`/dbs/${encodeURIComponent(db.id)}/colls`);
      for (const coll of colls) out.push(await this.collection(`dbs/${db.id}/colls/${coll.id}`));
    }
    return out;
  }

  /// Splits a range now or after completeAfterMs; recorded in stats.
  async split(link, rangeId, completeAfterMs = 0) {
    const collection = await this.collection(link);
    const result = collection.split(String(rangeId), completeAfterMs);
    this.stats.splits.push({ collection: link, ...result, completeAfterMs });
    return result;
  }

  count(operation) {
    this.stats.byOperation[operation] = (this.stats.byOperation[operation] ?? 0) + 1;
  }

  /// Handles one request: { method, segments, headers, body: Buffer, target }.
  /// Returns { status, headers, json | raw, charge, range? }.
  async route(request) {
    this.stats.requests += 1;
    const { method, segments: s } = request;
    if (s[0] === "offers") return this.offers(request);
    if (s.length === 0 && method === "GET") return this.account(request);
    if (s[0] === "dbs" && s.length === 2 && method === "DELETE") {
      for (const link of this.collections.keys()) if (link.startsWith(`dbs/${s[1]}/`)) this.collections.delete(link);
    }
    if (s[0] !== "dbs" || s[2] !== "colls" || s.length < 4) return this.forward(request, "metadata");
    const link = `dbs/${s[1]}/colls/${s[3]}`;
    if (s.length === 4) {
      if (method === "DELETE") this.collections.delete(link);
      const reply = await this.forward(request, "metadata");
      if (method === "GET" && reply.status === 200) {
        // The SDK hashes with V1 unless the container says version 2; the service's new
        // containers say 2, the local server says nothing.
        const info = JSON.parse(reply.raw.toString());
        info.partitionKey = { version: 2, ...info.partitionKey };
        return answer(200, info, reply.headers, cost.kMetadataCharge);
      }
      return reply;
    }
    if (s[4] === "pkranges" && s.length === 5 && method === "GET") {
      this.count("pkranges");
      const body = (await this.collection(link)).pkranges();
      return answer(200, body, { "x-ms-item-count": String(body._count) }, cost.kMetadataCharge);
    }
    if (s[4] !== "docs") return this.forward(request, "metadata");
    let collection;
    try {
      collection = await this.collection(link);
    } catch {
      return this.forward(request, "docs"); // no such container: the server answers its 404
    }
    const reply = await this.documents(request, collection);
    this.timeline(link).record(uaClass(request.headers["user-agent"]), reply.charge ?? 0, reply.status === 429);
    return reply;
  }

  /// The database account: its endpoints must name the layer, or an SDK with endpoint discovery
  /// (the default) would go around it to the server's own address.
  async account(request) {
    const reply = await this.forward(request, "account");
    if (reply.status !== 200 || !request.headers.host) return reply;
    const info = JSON.parse(reply.raw.toString());
    const self = `https://${request.headers.host}/`;
    for (const list of [info.writableLocations, info.readableLocations]) {
      for (const location of list ?? []) location.databaseAccountEndpoint = self;
    }
    return answer(200, info, reply.headers, cost.kMetadataCharge);
  }

  async forward(request, operation) {
    this.count(operation);
    const reply = await this.upstream.send(request.method, request.target, request.headers, request.body);
    return { status: reply.status, headers: reply.headers, raw: reply.body, charge: cost.kMetadataCharge };
  }

  async offers(request) {
    this.count("offers");
    const { method, segments: s } = request;
    const all = (await this.allCollections()).map((c) => [c, offerOf(c)]);
    if (s.length === 1 && method === "GET") {
      return answer(200, { _rid: "", Offers: all.map(([, o]) => o), _count: all.length }, {}, cost.kMetadataCharge);
    }
    if (s.length === 1 && method === "POST") {
      const offers = queryOffers(all.map(([, o]) => o), JSON.parse(request.body.toString() || "{}"));
      return answer(200, { _rid: "", Offers: offers, _count: offers.length }, { "x-ms-item-count": String(offers.length) }, cost.kMetadataCharge);
    }
    const found = all.find(([, o]) => o.id === s[1]);
    if (!found) return failure(404, "NotFound", `no offer ${s[1]}`);
    if (method === "GET") return answer(200, found[1], {}, cost.kMetadataCharge);
    if (method === "PUT") {
      const problem = applyOffer(found[0], JSON.parse(request.body.toString() || "{}"));
      if (problem) return failure(400, "BadRequest", problem);
      return answer(200, offerOf(found[0]), {}, cost.kMetadataCharge);
    }
    return failure(405, "MethodNotAllowed", `${method} on an offer`);
  }

  /// Requests on documents: queries, query plans, batches, point operations.
  async documents(request, collection) {
    const { method, headers } = request;
    const isQuery = method === "POST" && (isTrue(headers["x-ms-documentdb-isquery"]) ||
      String(headers["content-type"]).startsWith("application/query+json"));
    if (isQuery && isTrue(headers["x-ms-cosmos-is-query-plan-request"])) {
      this.count("queryplan");
      const query = JSON.parse(request.body.toString()).query;
      const plan = queryPlan(query);
      if (!plan) return failure(400, "BadRequest", `ranges layer: no query plan modelled for ${query.slice(0, 200)} (only SELECT * without ORDER BY, aggregates, DISTINCT, TOP, OFFSET)`);
      return answer(200, plan, {}, cost.kMetadataCharge);
    }
    const isBatch = method === "POST" && isTrue(headers["x-ms-cosmos-is-batch-request"]);
    const write = !isQuery && method !== "GET";
    const operation = isQuery ? "query" : isBatch ? "batch" : { GET: "read", PUT: "replace", DELETE: "delete", PATCH: "patch" }[method] ??
      (isTrue(headers["x-ms-documentdb-is-upsert"]) ? "upsert" : "create");
    this.count(operation);

    // Which range: pinned by id, else by the partition key, else all (a fan-out query).
    let range = null;
    const pinned = headers["x-ms-documentdb-partitionkeyrangeid"]?.split(",").pop();
    const key = headers["x-ms-documentdb-partitionkey"];
    let epk;
    try {
      epk = key === undefined ? undefined : epkOfHeader(key);
    } catch (err) {
      return failure(400, "BadRequest", `x-ms-documentdb-partitionkey: ${err.message}`);
    }
    const locate = () => (pinned !== undefined ? collection.byId(pinned) : epk !== undefined ? collection.byEpk(epk) : null);
    range = locate();
    if (pinned !== undefined && !range) return this.gone(collection, pinned);
    if (write && range?.status === "splitting") {
      await collection.settled(range.id); // the gateway retries 410/1007 until the split is done
      range = locate();
      if (pinned !== undefined && !range) return this.gone(collection, pinned);
    }

    const targets = range ? [range] : collection.ranges;
    const wait = Math.max(...targets.map((r) => collection.admit(r)));
    if (wait > 0) {
      this.stats.throttled += 1;
      for (const r of targets) r.stats.throttled += 1;
      return failure(429, "TooManyRequests", `ranges layer: range ${targets.map((r) => r.id).join(",")} of ${collection.link} exceeded its share of ${collection.limit()} RU/s`, 3200, { "x-ms-retry-after-ms": String(wait) });
    }

    // Reserve an estimate now and settle the real charge after: concurrent requests must see the
    // budget the earlier ones are spending, as on the service, not all pass a full bucket at once.
    const estimate = isBatch ? 5 * Math.max(1, request.body.length / 1024) : isQuery ? cost.kQueryOverhead : write ? 5 : 1;
    for (const r of targets) r.tokens -= estimate / targets.length;

    let reply;
    if (isQuery && range) reply = await this.pinnedQuery(request, collection, range);
    else if (isBatch) reply = await this.batch(request, collection, range, pinned !== undefined);
    else reply = await this.pointOrFanOut(request, operation);
    if (reply.status === 429 || reply.status === 410) reply.charge = 0;
    for (const r of targets) {
      r.tokens += estimate / targets.length;
      collection.charge(r, reply.charge / targets.length);
    }
    if (range) {
      reply.headers = { ...reply.headers, "x-ms-documentdb-partitionkeyrangeid": range.id };
      this.stats.routed += 1;
      if (this.stats.routed === this.options.splitAfter) await this.split(collection.link, range.id);
    }
    return reply;
  }

  gone(collection, id) {
    this.stats.gone += 1;
    const retired = collection.retiredById(id);
    if (retired) retired.stats.gone += 1;
    const why = retired ? `was split into ${collection.gone.get(id).join(", ")}` : "does not exist";
    return failure(410, "Gone", `ranges layer: partition key range ${id} of ${collection.link} ${why}`, 1002);
  }

  async pinnedQuery(request, collection, range) {
    const { headers } = request;
    const body = JSON.parse(request.body.toString());
    const kind = pinnedKind(String(body.query));
    if (!kind) return failure(400, "BadRequest", `ranges layer: a range-pinned query must be SELECT * or SELECT VALUE COUNT(1): ${String(body.query).slice(0, 200)}`);
    let serverToken;
    if (headers["x-ms-continuation"]) {
      let token;
      try {
        token = unwrapContinuation(headers["x-ms-continuation"]);
      } catch (err) {
        return failure(400, "BadRequest", `ranges layer: ${err.message}`);
      }
      if (!collection.descends(range, String(token.range))) {
        return failure(400, "BadRequest", `ranges layer: continuation of range ${token.range} sent to range ${range.id}, which does not descend from it`);
      }
      serverToken = token.server;
    }
    // A feed range narrower than the range (x-ms-start-epk / x-ms-end-epk) narrows the filter.
    const bounds = { min: range.min, max: range.max };
    if (headers["x-ms-start-epk"] !== undefined && headers["x-ms-start-epk"] > bounds.min) bounds.min = headers["x-ms-start-epk"];
    if (headers["x-ms-end-epk"] !== undefined && headers["x-ms-end-epk"] < bounds.max) bounds.max = headers["x-ms-end-epk"];
    const send = async (h, b) => this.upstream.send("POST", request.target, h, b);
    return servePinned({ kind, request: body, headers, bounds, paths: collection.paths, rangeId: range.id, serverToken, send });
  }

  async batch(request, collection, range, pinned) {
    const operations = JSON.parse(request.body.toString());
    if (pinned) {
      // A bulk batch pinned to a range holds only operations whose key lies in it: the SDK routes
      // them by the pkranges it read; a mismatch is a routing bug worth failing loudly on.
      for (const [i, op] of operations.entries()) {
        if (op.partitionKey === undefined) continue;
        const epk = epkOfHeader(op.partitionKey);
        if (!inRange(epk, range.min, range.max)) {
          return failure(400, "BadRequest", `ranges layer: batch operation ${i} (id ${op.id}) has partition key ${op.partitionKey} outside range ${range.id}`);
        }
      }
    }
    const reply = await this.upstream.send("POST", request.target, request.headers, request.body);
    if (reply.status >= 300) return { status: reply.status, headers: reply.headers, raw: reply.body, charge: 1 };
    const results = JSON.parse(reply.body.toString());
    let total = 0;
    for (const [i, result] of results.entries()) {
      const op = operations[i] ?? {};
      const bytes = Buffer.byteLength(JSON.stringify(result.resourceBody ?? op.resourceBody ?? {}));
      result.requestCharge = cost.operationCharge(op.operationType, result.statusCode, bytes);
      total += result.requestCharge;
    }
    return { status: reply.status, headers: reply.headers, json: results, charge: Math.round(total * 100) / 100 };
  }

  async pointOrFanOut(request, operation) {
    const reply = await this.upstream.send(request.method, request.target, request.headers, request.body);
    const bytes = reply.body.length;
    let charge = 1;
    if (reply.status < 300) {
      if (operation === "query") {
        const page = JSON.parse(reply.body.toString());
        charge = cost.queryCharge(page.Documents.reduce((n, d) => n + Buffer.byteLength(JSON.stringify(d)), 0));
      } else if (operation === "read") charge = cost.readCharge(bytes);
      else if (operation === "delete") charge = cost.deleteCharge();
      else if (operation === "create" || (operation === "upsert" && reply.status === 201)) charge = cost.createCharge(Math.max(bytes, request.body.length));
      else charge = cost.replaceCharge(Math.max(bytes, request.body.length));
    }
    return { status: reply.status, headers: reply.headers, raw: reply.body, charge };
  }
}
