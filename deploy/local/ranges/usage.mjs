// The layer's request-unit timeline: per container and per client class, a per-second ring of
// the RU charged, the requests answered and the 429s among them (the last kRetainSeconds), and
// the summary a budget is checked against: mean RU/s over the active span and the highest
// 5-second window. The client class comes from the User-Agent: backfilld sends
// "backfilld/<version>", everything else (an application, the SDK, curl) is "other".

export const kRetainSeconds = 600;
export const kUaClasses = ["backfilld", "other"];

/// "backfilld" for backfilld's own requests (its User-Agent starts with "backfilld"), else "other".
export function uaClass(userAgent) {
  return String(userAgent ?? "").toLowerCase().startsWith("backfilld") ? "backfilld" : "other";
}

/// One second of one class: t is the second's start (ms since the epoch); first and last are the
/// ms times of its first and last request (the active span's exact ends).
function emptySlot(t) {
  return { t, requestCharge: 0, requests: 0, throttled: 0, first: Infinity, last: -Infinity };
}

/// The timeline of one container: a ring of kRetainSeconds slots per client class.
export class UsageTimeline {
  constructor() {
    this.rings = Object.fromEntries(kUaClasses.map((c) => [c, new Array(kRetainSeconds).fill(null)]));
  }

  /// Records one answered request at nowMs: its charge (0 for a 429) and whether it was a 429.
  record(cls, requestCharge, throttled, nowMs = Date.now()) {
    const ring = this.rings[cls] ?? this.rings.other;
    const t = Math.floor(nowMs / 1000) * 1000;
    const at = (t / 1000) % kRetainSeconds;
    if (ring[at]?.t !== t) ring[at] = emptySlot(t);
    const slot = ring[at];
    slot.requestCharge += requestCharge;
    slot.requests += 1;
    if (throttled) slot.throttled += 1;
    slot.first = Math.min(slot.first, nowMs);
    slot.last = Math.max(slot.last, nowMs);
  }

  /// The retained slots of the given classes with sinceMs <= t < untilMs (by second start),
  /// oldest first, classes of one second merged. nowMs bounds the ring's retention.
  slots(classes, sinceMs, untilMs, nowMs = Date.now()) {
    const oldest = Math.floor(nowMs / 1000) * 1000 - (kRetainSeconds - 1) * 1000;
    const since = Math.max(oldest, Math.floor(sinceMs / 1000) * 1000);
    const keep = (slot) => slot !== null && slot.t >= since && slot.t < untilMs;
    return mergeSlots(classes.map((cls) => this.rings[cls].filter(keep)));
  }
}

const round = (x) => Math.round(x * 100) / 100;

/// Merges the slots of several timelines (several containers) by second.
export function mergeSlots(lists) {
  const bySecond = new Map();
  for (const slot of lists.flat()) {
    const merged = bySecond.get(slot.t) ?? emptySlot(slot.t);
    merged.requestCharge += slot.requestCharge;
    merged.requests += slot.requests;
    merged.throttled += slot.throttled;
    merged.first = Math.min(merged.first, slot.first);
    merged.last = Math.max(merged.last, slot.last);
    bySecond.set(slot.t, merged);
  }
  return [...bySecond.values()].sort((a, b) => a.t - b.t);
}

/// The usage answer for slots (oldest first): every second of the active span (first to last
/// second with a request, idle seconds as zeros), the totals, the mean RU/s over the active span
/// (measured from the first request to the last, in ms, at least one second) and the highest mean
/// RU/s of a 5-second window (whole seconds, sliding by one; a span under 5 s is one window of its
/// length).
export function summarize(slots) {
  const total = { requestCharge: 0, requests: 0, throttled: 0 };
  const seconds = [];
  for (const slot of slots) {
    if (slot.requests === 0) continue;
    const previous = seconds.at(-1);
    for (let t = previous ? previous.t + 1000 : slot.t; previous && t < slot.t; t += 1000) {
      seconds.push({ t, requestCharge: 0, requests: 0, throttled: 0 });
    }
    seconds.push({ t: slot.t, requestCharge: round(slot.requestCharge), requests: slot.requests, throttled: slot.throttled });
    total.requestCharge += slot.requestCharge;
    total.requests += slot.requests;
    total.throttled += slot.throttled;
  }
  const active = slots.filter((slot) => slot.requests > 0);
  if (active.length === 0) {
    return { seconds, total, activeSpanMs: 0, meanRuPerSecond: 0, max5sRuPerSecond: 0, throttledFraction: 0, from: null, to: null };
  }
  const from = Math.min(...active.map((s) => s.first));
  const to = Math.max(...active.map((s) => s.last));
  const activeSpanMs = to - from;
  const width = Math.min(5, seconds.length);
  let window = 0;
  let max = 0;
  for (let i = 0; i < seconds.length; i += 1) {
    window += seconds[i].requestCharge;
    if (i >= width) window -= seconds[i - width].requestCharge;
    if (i >= width - 1) max = Math.max(max, window / width);
  }
  total.requestCharge = round(total.requestCharge);
  return {
    seconds,
    total,
    activeSpanMs,
    meanRuPerSecond: round(total.requestCharge / Math.max(1, activeSpanMs / 1000)),
    max5sRuPerSecond: round(max),
    throttledFraction: total.requests ? Math.round((total.throttled / total.requests) * 10000) / 10000 : 0,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
  };
}
