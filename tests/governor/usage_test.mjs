// The ranges layer's RU timeline (deploy/local/ranges/usage.mjs) with an injected clock: the
// client class of a User-Agent, per-second slots per class, the ring's retention, the mean over
// the active span and the highest 5-second window the governor's "Done when" is measured with.
//   node --test tests/governor/usage_test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import { kRetainSeconds, mergeSlots, summarize, uaClass, UsageTimeline } from "../../deploy/local/ranges/usage.mjs";

const t0 = 1_800_000_000_000; // a whole second

test("backfilld's User-Agent is its own class; everything else is other", () => {
  assert.equal(uaClass("backfilld/0.1.0"), "backfilld");
  assert.equal(uaClass("Backfilld/dev"), "backfilld");
  assert.equal(uaClass("notelett-app-sim/1"), "other");
  assert.equal(uaClass("azsdk-js-cosmosdb/4 backfilld"), "other");
  assert.equal(uaClass(undefined), "other");
});

test("requests land in their second and class; classes merge when both are asked", () => {
  const timeline = new UsageTimeline();
  timeline.record("backfilld", 10, false, t0 + 100);
  timeline.record("backfilld", 10, false, t0 + 900);
  timeline.record("other", 0, true, t0 + 500);
  timeline.record("other", 1.5, false, t0 + 1200);
  const job = timeline.slots(["backfilld"], 0, Infinity, t0 + 2000);
  assert.deepEqual(job.map(({ t, requestCharge, requests, throttled }) => ({ t, requestCharge, requests, throttled })),
    [{ t: t0, requestCharge: 20, requests: 2, throttled: 0 }]);
  const all = summarize(timeline.slots(["backfilld", "other"], 0, Infinity, t0 + 2000));
  assert.deepEqual(all.seconds, [
    { t: t0, requestCharge: 20, requests: 3, throttled: 1 },
    { t: t0 + 1000, requestCharge: 1.5, requests: 1, throttled: 0 },
  ]);
  assert.deepEqual(all.total, { requestCharge: 21.5, requests: 4, throttled: 1 });
  assert.equal(all.throttledFraction, 0.25);
});

test("since and until select whole seconds; the ring forgets what is older than its length", () => {
  const timeline = new UsageTimeline();
  for (let s = 0; s < 10; s += 1) timeline.record("other", 1, false, t0 + s * 1000);
  const window = timeline.slots(["other"], t0 + 3500, t0 + 6000, t0 + 10_000);
  assert.deepEqual(window.map((slot) => (slot.t - t0) / 1000), [3, 4, 5]);
  // A slot reused a ring length later holds only the new second.
  timeline.record("other", 7, false, t0 + kRetainSeconds * 1000);
  const later = timeline.slots(["other"], 0, Infinity, t0 + kRetainSeconds * 1000);
  assert.equal(later[0].t, t0 + 1000, "second 0 was overwritten, second 1 is the oldest kept");
  assert.equal(later.at(-1).requestCharge, 7);
  assert.equal(later.length, 10);
  // Read much later, nothing older than the ring's length is returned even if not overwritten.
  assert.deepEqual(timeline.slots(["other"], 0, Infinity, t0 + 10 * kRetainSeconds * 1000), []);
});

test("mean over the active span (first to last request), idle seconds inside it are zeros", () => {
  const timeline = new UsageTimeline();
  // 100 RU/s for 10 s: one 10-RU request every 100 ms, from t0 to t0 + 9.9 s, with a 3-s gap
  // (seconds 4, 5, 6 idle) that the mean must count.
  for (let ms = 0; ms < 10_000; ms += 100) {
    if (ms >= 4000 && ms < 7000) continue;
    timeline.record("backfilld", 10, false, t0 + ms);
  }
  const usage = summarize(timeline.slots(["backfilld"], 0, Infinity, t0 + 20_000));
  assert.equal(usage.seconds.length, 10);
  assert.deepEqual(usage.seconds.slice(4, 7).map((s) => s.requests), [0, 0, 0]);
  assert.equal(usage.total.requestCharge, 700);
  assert.equal(usage.activeSpanMs, 9900);
  assert.equal(usage.meanRuPerSecond, Math.round((700 / 9.9) * 100) / 100);
  // Windows of 5 whole seconds: [0,5) holds 400 RU -> 80 RU/s; [5,10) 300 -> 60.
  assert.equal(usage.max5sRuPerSecond, 80);
});

test("a burst shows in the 5-second maximum, not in the mean", () => {
  const timeline = new UsageTimeline();
  for (let s = 0; s < 30; s += 1) timeline.record("backfilld", s >= 10 && s < 15 ? 800 : 400, false, t0 + s * 1000);
  const usage = summarize(timeline.slots(["backfilld"], 0, Infinity, t0 + 30_000));
  assert.equal(usage.max5sRuPerSecond, 800);
  assert.ok(usage.meanRuPerSecond < 520, `mean ${usage.meanRuPerSecond}`);
});

test("several containers sum by second; nothing recorded gives zeros", () => {
  const a = new UsageTimeline();
  const b = new UsageTimeline();
  a.record("backfilld", 5, false, t0 + 10);
  b.record("backfilld", 7, true, t0 + 20);
  const usage = summarize(mergeSlots([a.slots(["backfilld"], 0, Infinity, t0), b.slots(["backfilld"], 0, Infinity, t0)]));
  assert.deepEqual(usage.seconds, [{ t: t0, requestCharge: 12, requests: 2, throttled: 1 }]);
  assert.equal(usage.meanRuPerSecond, 12, "a span under a second counts as one second");
  const none = summarize([]);
  assert.deepEqual([none.total.requests, none.meanRuPerSecond, none.max5sRuPerSecond], [0, 0, 0]);
});
