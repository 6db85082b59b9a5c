// Request charges (x-ms-request-charge): documented approximations of the service's costs, so
// that throttling, budgets and benchmarks see production-like numbers instead of the local
// server's constant 1.
//
// Sources (Microsoft Learn, "Request Units" and "Understand request unit consumption", session or
// eventual consistency, default indexing):
// - point read: 1 RU for 1 KB, 1.33 at 8 KB, 9.95 at 128 KB ("100 KB: 10 RU" elsewhere);
// - write (insert): 4.95 RU at 1 KB, 6.29 at 2 KB, 9.52 at 16 KB, 22.67 at 64 KB, 48.19 at 128 KB,
//   625 at 1 MB. Both tables are interpolated linearly below.
// - replace / upsert of an existing item / patch: charged twice the insert cost (~9.9 RU at 1 KB).
//   Not a published number: a replace removes the old item's index terms and adds the new ones,
//   and ~10 RU per 1 KB replace is what accounts with default indexing commonly report. This is
//   the layer's assumption, made so that rewriting a container costs what a migration will see.
// - delete: the insert cost of the deleted item (its size is unknown here: 1 KB assumed, 4.95).
// - query page: 2.5 RU (query overhead) + 1 RU per KB of documents returned (the partition only
//   reads its own documents; what the layer filters out of the local server's page is not
//   charged). Pinned COUNT: 2.5 + 0.01 RU per document counted (an index scan).
// - batch: the sum of its operations (a failed operation 1 RU), as the service reports per op.
// - metadata (databases, containers, pkranges, offers, query plans): 1 RU, not counted against
//   a container's throughput (the service meters them apart).
// - throttled (429) or gone (410) answers: 0 RU.

const kReadTable = [
  [1, 1.0], [2, 1.04], [4, 1.14], [8, 1.33], [16, 1.67], [32, 2.19], [64, 4.76], [128, 9.95],
  [256, 20.28], [512, 40.95], [1024, 145.9], [2048, 291.8],
];
const kWriteTable = [
  [1, 4.95], [2, 6.29], [4, 6.67], [8, 7.04], [16, 9.52], [32, 11.23], [64, 22.67], [128, 48.19],
  [256, 98.29], [512, 184.57], [1024, 625.0], [2048, 1250.0],
];

function interpolate(table, bytes) {
  const kb = Math.max(1, bytes / 1024);
  for (let i = 1; i < table.length; i += 1) {
    const [x1, y1] = table[i];
    if (kb <= x1) {
      const [x0, y0] = table[i - 1];
      return y0 + ((kb - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return table[table.length - 1][1] * (kb / table[table.length - 1][0]);
}

const round = (ru) => Math.round(ru * 100) / 100;

export const kMetadataCharge = 1;
export const kQueryOverhead = 2.5;

/// RU of a point read returning `bytes`.
export const readCharge = (bytes) => round(interpolate(kReadTable, bytes));
/// RU of inserting an item of `bytes`.
export const createCharge = (bytes) => round(interpolate(kWriteTable, bytes));
/// RU of replacing (or upserting over, or patching) an item of `bytes`.
export const replaceCharge = (bytes) => round(2 * interpolate(kWriteTable, bytes));
/// RU of deleting an item (size unknown: 1 KB).
export const deleteCharge = () => round(interpolate(kWriteTable, 1024));
/// RU of a query page returning documents of `bytes` in total.
export const queryCharge = (bytes) => round(kQueryOverhead + bytes / 1024);
/// RU of a pinned COUNT over `counted` documents.
export const countCharge = (counted) => round(kQueryOverhead + counted * 0.01);

/// RU of one batch operation given its type, status and body size.
export function operationCharge(operationType, statusCode, bytes) {
  if (statusCode >= 400) return 1;
  switch (String(operationType).toLowerCase()) {
    case "read":
      return readCharge(bytes);
    case "create":
      return createCharge(bytes);
    case "upsert":
      return statusCode === 201 ? createCharge(bytes) : replaceCharge(bytes);
    case "delete":
      return deleteCharge();
    default: // replace, patch
      return replaceCharge(bytes);
  }
}
