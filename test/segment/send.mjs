// send.mjs sends every Segment Spec call type to trek through Segment's
// official Node library, @segment/analytics-node, configured as any Segment
// user would configure it except for its host. It prints a JSON summary of
// exactly what went over the wire (taken from the library's own
// 'http_request' events, so the library's generated messageIds, timestamps
// and batch sentAt are in it) and exits non-zero if any event was not
// delivered.
//
// Environment:
//   TREK_HOST           trek's base URL, e.g. http://127.0.0.1:8080 (required)
//   TREK_WRITE_KEY      the source's write key (required)
//   TREK_RUN            a label that makes this run's ids unique (default: the time)
//   TREK_CLOCK_SKEW_MS  pretend this process's clock is off by this many
//                       milliseconds (default 0), to check that trek corrects
//                       event times from sentAt as the Segment Spec says. The
//                       library is untouched: only the Date it reads is shifted.
//
// internal/cli/segment_test.go runs this against an in-process 'trek serve'.

const host = process.env.TREK_HOST;
const writeKey = process.env.TREK_WRITE_KEY;
if (!host || !writeKey) {
  console.error('send.mjs: set TREK_HOST and TREK_WRITE_KEY');
  process.exit(2);
}
const run = process.env.TREK_RUN || `run-${Date.now()}`;
const skewMs = Number(process.env.TREK_CLOCK_SKEW_MS || '0');
if (!Number.isFinite(skewMs)) {
  console.error(`send.mjs: TREK_CLOCK_SKEW_MS=${process.env.TREK_CLOCK_SKEW_MS} is not a number`);
  process.exit(2);
}

const RealDate = Date;
const realStart = new RealDate();
if (skewMs !== 0) {
  // Shift the clock before the library is loaded, so every time it takes
  // (event timestamps, the batch's sentAt) comes from the wrong clock, the
  // way a phone or a server with a bad clock would send them.
  globalThis.Date = class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + skewMs);
      else super(...args);
    }
    static now() {
      return RealDate.now() + skewMs;
    }
  };
}

const { Analytics } = await import('@segment/analytics-node');

const analytics = new Analytics({
  writeKey,
  host,
  // Small batches so that several requests are made, and a short interval
  // so nothing waits for the default 10 s; the path stays the library's
  // default, /v1/batch.
  flushAt: 4,
  flushInterval: 200,
  // Bounded retries, so that a trek answering 5xx fails this run in
  // seconds rather than after the library's default backoff of minutes.
  maxRetries: 2,
});

const requests = [];
const statuses = [];
const errors = [];
analytics.on('http_request', (req) => {
  requests.push({ url: req.url, headers: req.headers, body: JSON.parse(req.body) });
});
analytics.on('http_response', (res) => {
  statuses.push(res.status);
});
analytics.on('error', (err) => {
  errors.push({
    code: err.code,
    reason: String(err.reason?.message ?? err.reason),
    messageId: err.ctx?.event?.messageId,
  });
});

const id = (s) => `${run}-${s}`;
// A phone number of this run's own, so that runs against one trek do not
// share an identifier (which trek would rightly refuse to merge across two
// user ids).
let hash = 7;
for (const c of run) hash = (hash * 31 + c.charCodeAt(0)) % 1000000;
const six = String(hash).padStart(6, '0');
const users = {
  ada: { userId: id('user-ada'), anonymousId: id('anon-ada'), email: `Ada.${run}@Example.com ` },
  // Bartek changed accounts: his old user id is joined to the new one only by alias.
  bartek: { userId: id('user-bartek'), previousId: id('user-bartek-legacy'), anonymousId: id('anon-bartek'), phone: `+48 601 ${six.slice(0, 3)} ${six.slice(3)}` },
};
const DAY = 24 * 60 * 60 * 1000;

// Ada browses anonymously, arrives from an ad clicked two days ago,
// signs up, buys, joins her company's account and opens the app.
analytics.page({
  anonymousId: users.ada.anonymousId, category: 'Docs', name: 'Pricing', messageId: id('m01'),
  properties: { path: '/pricing', url: 'https://shop.example/pricing', title: 'Pricing', referrer: 'https://google.com/' },
});
analytics.track({
  anonymousId: users.ada.anonymousId, event: 'Ad Clicked', messageId: id('m02'),
  timestamp: new Date(Date.now() - 2 * DAY),
  properties: { campaign: 'spring-sale', network: 'search', cost: 0.42 },
  context: { campaign: { source: 'google', medium: 'cpc', name: 'spring-sale' } },
});
analytics.track({
  anonymousId: users.ada.anonymousId, event: 'Product Viewed', messageId: id('m03'),
  properties: { product_id: 'sku-1', name: 'Trail shoe', price: 89.9, currency: 'EUR', in_stock: true, sizes: [38, 39, 40], dimensions: { weight_g: 310 } },
});
analytics.identify({
  userId: users.ada.userId, anonymousId: users.ada.anonymousId, messageId: id('m04'),
  traits: { email: users.ada.email, name: 'Ada Nowak', plan: 'pro', city: 'Kraków' },
});
// No messageId: the library makes one, and trek must keep it.
analytics.track({
  userId: users.ada.userId, event: 'Order Completed',
  properties: { order_id: id('order-1'), revenue: 89.9, currency: 'EUR', products: [{ product_id: 'sku-1', quantity: 1, price: 89.9 }] },
});
analytics.group({
  userId: users.ada.userId, groupId: id('group-acme'), messageId: id('m06'),
  traits: { name: 'Acme Ltd', employees: 40, industry: 'retail' },
});
analytics.screen({
  userId: users.ada.userId, name: 'Home', messageId: id('m07'),
  properties: { variant: 'b', build: 512 },
  context: { app: { name: 'Trek Shop', version: '2.3.1' }, device: { type: 'ios' } },
});

// Bartek: an app install, an identify under his legacy account, a support
// call, then the alias that joins his new account to the legacy one.
analytics.screen({
  anonymousId: users.bartek.anonymousId, name: 'Onboarding', messageId: id('m08'),
  properties: { step: 1 },
});
analytics.identify({
  userId: users.bartek.previousId, anonymousId: users.bartek.anonymousId, messageId: id('m09'),
  traits: { phone: users.bartek.phone, name: 'Bartek Zieliński' },
});
analytics.track({
  userId: users.bartek.previousId, event: 'Support Call Started', messageId: id('m10'),
  properties: { queue: 'billing', wait_seconds: 95 },
});
analytics.alias({ userId: users.bartek.userId, previousId: users.bartek.previousId, messageId: id('m11') });
analytics.track({
  userId: users.bartek.userId, event: 'Subscription Renewed', messageId: id('m12'),
  properties: { plan: 'family', amount: 129, currency: 'PLN', auto_renew: false },
});

await analytics.closeAndFlush({ timeout: 30000 });
const realEnd = new RealDate();

const sent = new Map();
for (const r of requests) {
  for (const e of r.body.batch) sent.set(e.messageId, { ...e, sentAt: r.body.sentAt });
}
const summary = {
  run,
  host,
  library: { name: '@segment/analytics-node', version: analytics.VERSION },
  clockSkewMs: skewMs,
  realStart: realStart.toISOString(),
  realEnd: realEnd.toISOString(),
  users,
  requests: requests.map((r) => ({
    url: r.url,
    authorization: r.headers.Authorization?.split(' ')[0],
    retry: r.headers['X-Retry-Count'] ?? '0',
    writeKeyInBody: r.body.writeKey === writeKey,
    sentAt: r.body.sentAt,
    messageIds: r.body.batch.map((e) => e.messageId),
  })),
  statuses,
  errors,
  // Each event once, as the library last sent it, with the sentAt of that
  // request (a retried batch is sent again with a new sentAt).
  events: [...sent.values()],
};
process.stdout.write(JSON.stringify(summary, null, 2) + '\n');

// A batch that failed and was then retried with success is delivered; the
// statuses above show the failure for whoever wants to be stricter.
if (errors.length > 0 || sent.size !== 12) {
  console.error(`send.mjs: ${errors.length} delivery errors, statuses ${statuses.join(',')}, ${sent.size} of 12 events sent`);
  process.exit(1);
}
