// The `offers` resource: each container's provisioned throughput, which the local server does not
// have. GET /offers lists one offer per container, POST /offers answers the SDK's query
// (`SELECT * from root where root.resource = "<container _self>"`), PUT /offers/{id} changes the
// throughput (the layer re-divides it among the ranges at once).

const norm = (link) => String(link ?? "").replace(/^\/+|\/+$/g, "");

/// The offer resource of a collection, shaped as the service's (offerVersion V2).
export function offerOf(collection) {
  const { offerThroughput, autoscaleMax } = collection.throughput;
  // base64 rids may hold '/' and '+': the offer id is the rid's hex, safe in a URL path.
  const id = Buffer.from(collection.rid, "base64").toString("hex");
  const content = { offerThroughput, offerIsRUPerMinuteThroughputEnabled: false };
  if (autoscaleMax) {
    content.offerThroughput = Math.max(400, autoscaleMax / 10); // the floor autoscale bills
    content.offerAutopilotSettings = { maxThroughput: autoscaleMax, autoUpgradePolicy: null };
  }
  return {
    resource: collection.self,
    offerType: "Invalid",
    offerResourceId: collection.rid,
    offerVersion: "V2",
    content,
    id,
    _rid: id,
    _self: `offers/${id}/`,
    _etag: `"${offerThroughput}-${autoscaleMax ?? 0}"`,
    _ts: Math.floor(Date.now() / 1000),
  };
}

/// The offers matching a query body ({query, parameters}): by `resource` (the SDK's readOffer)
/// or `id`, the link given inline or as a parameter; every offer when the query has no filter.
export function queryOffers(offers, body) {
  const text = String(body?.query ?? "");
  const params = Object.fromEntries((body?.parameters ?? []).map((p) => [p.name, p.value]));
  const match = /where\s+\w+\.(resource|id|offerResourceId)\s*=\s*(?:"([^"]*)"|'([^']*)'|(@\w+))/i.exec(text);
  if (!match) return offers;
  const value = norm(match[2] ?? match[3] ?? params[match[4]]);
  const field = match[1];
  return offers.filter((offer) => norm(offer[field]) === value);
}

/// Applies a replaced offer's content to the collection's throughput; returns an error text or null.
export function applyOffer(collection, offer) {
  const content = offer?.content ?? {};
  const max = content.offerAutopilotSettings?.maxThroughput;
  if (max !== undefined) {
    if (!(Number.isFinite(max) && max >= 1000)) return `offerAutopilotSettings.maxThroughput must be >= 1000, got ${max}`;
    collection.throughput = { offerThroughput: max / 10, autoscaleMax: max };
    return null;
  }
  const ru = content.offerThroughput;
  if (!(Number.isFinite(ru) && ru >= 400)) return `content.offerThroughput must be a number >= 400, got ${ru}`;
  collection.throughput = { offerThroughput: ru };
  return null;
}
