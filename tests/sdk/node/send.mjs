// Sends one of each Segment call through @segment/analytics-node to a Seamline server, unchanged.
//
// Usage: node send.mjs <host> <writeKey>   (or SEAMLINE_HOST / SEAMLINE_WRITE_KEY in the environment)
//
// Prints one line per HTTP request the SDK made: {"request": <the JSON body it sent>, "status": <HTTP status>},
// so the test can compare what was stored with exactly what went over the wire (messageIds, timestamps).
// Exits non-zero on any delivery error, any non-2xx answer, or when flushing does not finish in time.
// tests/ingestion/test_sdks.py runs it; `npm ci --prefix tests/sdk/node` installs the SDK first.

import { Analytics } from '@segment/analytics-node'

const host = process.argv[2] ?? process.env.SEAMLINE_HOST
const writeKey = process.argv[3] ?? process.env.SEAMLINE_WRITE_KEY
if (!host || !writeKey) {
  console.error('usage: node send.mjs <host> <writeKey>  (or set SEAMLINE_HOST and SEAMLINE_WRITE_KEY)')
  process.exit(2)
}

const failures = []
const analytics = new Analytics({
  writeKey,
  host,
  flushAt: 2, // several batches for six calls, so batching is exercised, not one request
  flushInterval: 200,
  maxRetries: 1, // a broken server must fail the test quickly, not after ten backed-off retries
  maxTotalBackoffDuration: 5,
  maxRateLimitDuration: 5,
  httpRequestTimeout: 5000,
})

let requestsMade = 0
let responsesSeen = 0
analytics.on('http_request', () => {
  requestsMade += 1
})
analytics.on('http_response', (response) => {
  responsesSeen += 1
  console.log(JSON.stringify({ request: JSON.parse(response.body), status: response.status }))
  if (response.status < 200 || response.status > 299) {
    failures.push(`HTTP ${response.status} ${response.statusText} from ${response.url}`)
  }
})
analytics.on('error', (error) => {
  failures.push(`${error.code}: ${error.reason?.stack ?? error.reason}`)
})

const CALLS = 6
let callsSettled = 0
// The per-call callback runs once the call is delivered or has failed for good (failures also reach 'error').
function settled() {
  callsSettled += 1
}

analytics.identify({
  userId: 'node-user-1',
  anonymousId: 'node-anon-1',
  traits: { email: 'grace@example.com', name: 'Grace Hopper', plan: 'pro' },
}, settled)
analytics.track({
  userId: 'node-user-1',
  event: 'Order Completed',
  properties: { orderId: 'o-42', total: 99.5, items: [{ sku: 'sku-1', qty: 2 }] },
}, settled)
analytics.page({
  anonymousId: 'node-anon-1',
  category: 'Docs',
  name: 'Pricing',
  properties: { url: 'https://shop.example/pricing' },
}, settled)
analytics.screen({ userId: 'node-user-1', name: 'Account Overview', properties: { tab: 'billing' } }, settled)
analytics.group({ userId: 'node-user-1', groupId: 'acct-9', traits: { plan: 'enterprise', seats: 40 } }, settled)
analytics.alias({ userId: 'node-user-1', previousId: 'node-anon-1' }, settled)

await analytics.closeAndFlush({ timeout: 15000 })

if (callsSettled !== CALLS) {
  failures.push(`only ${callsSettled} of ${CALLS} calls settled before closeAndFlush gave up`)
}
if (responsesSeen !== requestsMade || requestsMade === 0) {
  failures.push(`${requestsMade} request(s) made, ${responsesSeen} answered before closeAndFlush returned`)
}
if (failures.length > 0) {
  console.error(failures.join('\n'))
  process.exit(1)
}
