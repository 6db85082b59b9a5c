// Queries pinned to one partition key range (`x-ms-documentdb-partitionkeyrangeid`), and query
// plans. The local server has one range holding every document, so a pinned query is sent to it
// unpinned and its page is filtered down to the documents whose EPK lies in the range. Short or
// empty pages that still carry a continuation are legal: the service sends them too.
import { countCharge, queryCharge } from "./charge.mjs";
import { epkOfDocument, inRange } from "./epk.mjs";

const kTokenVersion = "ranges-layer/1";

// What a pinned query may be: whole documents (filterable by their partition key) or a
// COUNT (counted per range). Anything else cannot be filtered without evaluating the SQL, which
// the layer does not do: it answers 400 naming the query instead of a wrong result.
const kSelectAll = /^\s*SELECT\s+\*\s+FROM\s/i;
const kSelectCount = /^\s*SELECT\s+VALUE\s+COUNT\s*\(\s*1\s*\)\s+FROM\s/i;
const kNotPlain = /\b(ORDER\s+BY|GROUP\s+BY|DISTINCT|TOP|OFFSET|LIMIT|COUNT|SUM|AVG|MIN|MAX)\b/i;

/// The layer's continuation for a range: the server's token wrapped with the range that minted
/// it, so a child range can accept its parent's token and an unrelated range can refuse it.
export function wrapContinuation(rangeId, serverToken) {
  return JSON.stringify({ v: kTokenVersion, range: rangeId, server: serverToken });
}

/// { range, server } from a layer continuation; throws on anything else.
export function unwrapContinuation(text) {
  let token;
  try {
    token = JSON.parse(text);
  } catch {
    token = null;
  }
  if (!token || token.v !== kTokenVersion || typeof token.server !== "string") {
    throw new Error(`continuation was not minted by the ranges layer for a pinned query: ${text.slice(0, 100)}`);
  }
  return token;
}

/// The kind of pinned query: "documents", "count", or null when the layer cannot serve it.
export function pinnedKind(query) {
  if (kSelectAll.test(query)) return "documents";
  if (kSelectCount.test(query)) return "count";
  return null;
}

/// The gateway's query plan for a plain query (what the SDK asks with
/// x-ms-cosmos-is-query-plan-request). The local server has no query plans: it runs the query.
/// Plans with ORDER BY, aggregates, DISTINCT, TOP/OFFSET are not modelled: null.
export function queryPlan(query) {
  if (!kSelectAll.test(query) || kNotPlain.test(query)) return null;
  return {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: "None",
      top: null,
      offset: null,
      limit: null,
      orderBy: [],
      orderByExpressions: [],
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: [],
      groupByAliasToAggregateType: {},
      rewrittenQuery: "",
      hasSelectValue: false,
      dCountInfo: null,
      hasNonStreamingOrderBy: false,
    },
    queryRanges: [{ min: "", max: "FF", isMinInclusive: true, isMaxInclusive: false }],
  };
}

/// Serves one page of a pinned query. send(headers, body) forwards to the server and returns
/// { status, headers, body }. bounds: { min, max } of the range, narrowed by x-ms-start-epk /
/// x-ms-end-epk when the client sent them. serverToken: the server's continuation unwrapped from
/// the client's, or undefined. Returns { status, headers, json | raw, charge }.
export async function servePinned({ kind, request, headers, bounds, paths, rangeId, serverToken, send }) {
  const inside = (doc) => inRange(epkOfDocument(doc, paths), bounds.min, bounds.max);
  const forwarded = { ...headers };
  delete forwarded["x-ms-continuation"];
  if (serverToken) forwarded["x-ms-continuation"] = serverToken;

  if (kind === "documents") {
    const reply = await send(forwarded, Buffer.from(JSON.stringify(request)));
    if (reply.status !== 200) return { status: reply.status, headers: reply.headers, raw: reply.body, charge: 1 };
    const page = JSON.parse(reply.body.toString());
    const documents = page.Documents.filter(inside);
    const bytes = documents.reduce((n, doc) => n + Buffer.byteLength(JSON.stringify(doc)), 0);
    const out = {};
    if (reply.headers["x-ms-continuation"]) out["x-ms-continuation"] = wrapContinuation(rangeId, reply.headers["x-ms-continuation"]);
    return { status: 200, headers: out, json: { _rid: page._rid, Documents: documents, _count: documents.length }, charge: queryCharge(bytes) };
  }

  // COUNT: read the matching documents whole (large pages) and count those in the range; one
  // page, no continuation (the service may split a count over pages; one is as legal).
  const scan = { ...request, query: request.query.replace(kSelectCount, "SELECT * FROM ") };
  delete forwarded["x-ms-continuation"];
  forwarded["x-ms-max-item-count"] = "1000";
  let counted = 0;
  for (;;) {
    const reply = await send(forwarded, Buffer.from(JSON.stringify(scan)));
    if (reply.status !== 200) return { status: reply.status, headers: reply.headers, raw: reply.body, charge: 1 };
    counted += JSON.parse(reply.body.toString()).Documents.filter(inside).length;
    const next = reply.headers["x-ms-continuation"];
    if (!next) break;
    forwarded["x-ms-continuation"] = next;
  }
  return { status: 200, headers: {}, json: { Documents: [counted], _count: 1 }, charge: countCharge(counted) };
}
