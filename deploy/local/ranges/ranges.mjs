// The partition key ranges of each container as the layer presents them, their splits, and the
// throughput each range gets (a token bucket per range: the service divides a container's RU/s
// equally among its physical partitions and throttles each one on its own share).
import { initialBoundaries, inRange, midpoint } from "./epk.mjs";

/// One range: what `pkranges` lists plus the layer's own bookkeeping.
class Range {
  constructor(id, min, max, parents, share) {
    this.id = id;
    this.min = min;
    this.max = max;
    this.parents = parents;
    this.status = "online"; // "splitting" while a split completes
    this.tokens = share; // RU left in this second's budget; may go negative (debt)
    this.refilledAt = performance.now();
    this.stats = { requests: 0, requestCharge: 0, throttled: 0, gone: 0 };
  }
}

/// One container: its ranges, those split away (answer 410/1002) and its throughput.
export class Collection {
  /// info: the container resource from the server (id, _rid, _self, partitionKey.paths).
  constructor(link, info, k, throughput) {
    this.link = link;
    this.rid = info._rid;
    this.self = info._self;
    this.paths = info.partitionKey?.paths ?? [];
    this.throughput = throughput; // { offerThroughput, autoscaleMax? } RU/s
    this.ranges = [];
    this.gone = new Map(); // parent id -> its children's ids
    this.splitting = new Map(); // parent id -> promise resolved when the split completes
    this.retired = []; // ranges split away, kept for report()
    this.nextId = k;
    for (const [i, { min, max }] of initialBoundaries(k).entries()) {
      this.ranges.push(new Range(String(i), min, max, [], this.share()));
    }
  }

  /// RU/s of the whole container: the autoscale maximum when set (autoscale scales up at once).
  limit() {
    return this.throughput.autoscaleMax ?? this.throughput.offerThroughput;
  }

  /// RU/s of one range: the container's throughput divided equally, as the service does.
  share() {
    return this.limit() / Math.max(1, this.ranges?.length ?? 1);
  }

  byId(id) {
    return this.ranges.find((range) => range.id === id);
  }

  /// A range split away (its requests answer 410/1002), or undefined.
  retiredById(id) {
    return this.retired.find((range) => range.id === id);
  }

  /// The live range holding epk.
  byEpk(epk) {
    return this.ranges.find((range) => inRange(epk, range.min, range.max));
  }

  /// Splits range `id` in two at its EPK midpoint. The children get new ids and
  /// parents [id, ...id's parents]; with completeAfterMs the parent first stays listed as
  /// "splitting" (it still serves reads and queries; writes routed to it wait, as the gateway
  /// retries the service's 410/1007 until the split completes).
  split(id, completeAfterMs = 0) {
    const parent = this.byId(id);
    if (!parent) throw new Error(`no live range ${id} in ${this.link}`);
    if (parent.status !== "online") throw new Error(`range ${id} of ${this.link} is already splitting`);
    const mid = midpoint(parent.min, parent.max);
    if (mid === null) throw new Error(`range ${id} of ${this.link} is too narrow to split`);
    const childIds = [String(this.nextId), String(this.nextId + 1)];
    this.nextId += 2;
    const finish = () => {
      const at = this.ranges.indexOf(parent);
      const parents = [parent.id, ...parent.parents];
      const share = this.limit() / (this.ranges.length + 1);
      const children = [
        new Range(childIds[0], parent.min, mid, parents, share),
        new Range(childIds[1], mid, parent.max, parents, share),
      ];
      this.ranges.splice(at, 1, ...children);
      parent.status = "split";
      this.retired.push(parent);
      this.gone.set(parent.id, childIds);
      this.splitting.delete(parent.id);
    };
    if (completeAfterMs > 0) {
      parent.status = "splitting";
      this.splitting.set(
        parent.id,
        new Promise((resolve) => setTimeout(() => resolve(finish()), completeAfterMs).unref()),
      );
    } else {
      finish();
    }
    return { parent: parent.id, children: childIds, at: mid };
  }

  /// Resolves when range id is not splitting (writes to a splitting range wait for this).
  async settled(id) {
    await this.splitting.get(id);
  }

  /// True when `ancestor` is `range` itself or one of its parents: a continuation minted by a
  /// parent stays valid for its children (the Change Feed Processor and the SDK rely on it).
  descends(range, ancestor) {
    return range.id === ancestor || range.parents.includes(ancestor);
  }

  /// Token bucket: refill at the range's share per second, at most one second's worth.
  /// Returns 0 when the range may serve now, else the ms until it may (for x-ms-retry-after-ms).
  admit(range) {
    const share = this.share();
    const now = performance.now();
    range.tokens = Math.min(share, range.tokens + ((now - range.refilledAt) / 1000) * share);
    range.refilledAt = now;
    if (range.tokens > 0) return 0;
    return Math.max(1, Math.ceil(((-range.tokens + 0.01) / share) * 1000));
  }

  /// Charges a served request to a range (the bucket may go into debt, as the service's does:
  /// the cost is known only after the work).
  charge(range, requestCharge) {
    range.tokens -= requestCharge;
    range.stats.requests += 1;
    range.stats.requestCharge += requestCharge;
  }

  /// The `pkranges` feed body, shaped as the service's.
  pkranges() {
    const ridBytes = Buffer.from(this.rid ?? "", "base64");
    const fraction = 1 / this.ranges.length;
    const listed = this.ranges.map((range) => {
      const suffix = Buffer.alloc(8);
      suffix.writeBigUInt64BE(BigInt(range.id) + 1n);
      const rid = Buffer.concat([ridBytes, suffix]).toString("base64");
      return {
        _rid: rid,
        id: range.id,
        _etag: `"${this.link}:${range.id}"`,
        minInclusive: range.min,
        maxExclusive: range.max,
        ridPrefix: Number(range.id),
        _self: `${this.self.replace(/^\/|\/$/g, "")}/pkranges/${rid}/`,
        throughputFraction: fraction,
        status: "online",
        parents: range.parents,
        _ts: Math.floor(Date.now() / 1000),
      };
    });
    return { _rid: this.rid, PartitionKeyRanges: listed, _count: listed.length };
  }

  /// What the layer saw, per range, for tests and benchmarks.
  report() {
    const ranges = {};
    for (const range of [...this.retired, ...this.ranges]) {
      ranges[range.id] = { min: range.min, max: range.max, status: range.status, ...range.stats };
    }
    return { link: this.link, throughput: this.throughput, ranges, gone: Object.fromEntries(this.gone) };
  }
}
