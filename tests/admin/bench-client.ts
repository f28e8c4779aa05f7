// The load generator of `npm run bench:admin`, run in its own process (so client and server do not share an event
// loop): autocannon with `connections` keep-alive connections, timing every response. autocannon starts a connection's
// first request timer before the TCP connection exists, so at concurrency 100 with 1,000 requests one request in ten
// would include a connect (and the server accepting 100 sockets at once). Those first requests are sent but reported
// apart ("connect" figures), and `amount` steady requests are measured on open connections.
import { createRequire } from "node:module";
import type { EventEmitter } from "node:events";

/** What the bench passes as argv[2] (JSON). */
export interface ClientOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  amount: number;
}

/** What this prints on stdout (JSON): latencies in ms. */
export interface ClientResult {
  steady: { p50: number; p99: number; count: number; requestsPerSecond: number };
  /** The first request of each connection, timed from before the connect. */
  connect: { p50: number; p99: number; count: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

type Autocannon = (opts: Record<string, unknown>, done: (err: Error | null, result: { non2xx: number; errors: number; timeouts: number }) => void) => EventEmitter;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

/** Nearest-rank percentile of a sorted array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

const opts = JSON.parse(process.argv[2] ?? "") as ClientOptions;
const steady: number[] = [];
const connect: number[] = [];
const opened = new Set<object>();
let steadyStart = 0;
let steadyEnd = 0;
const instance = autocannon({ url: opts.url, headers: opts.headers, connections: opts.connections, amount: opts.amount + opts.connections, timeout: 30 }, (err, r) => {
  if (err) throw err;
  const s = [...steady].sort((a, b) => a - b);
  const c = [...connect].sort((a, b) => a - b);
  const seconds = Math.max(1e-3, (steadyEnd - steadyStart) / 1000);
  const out: ClientResult = {
    steady: { p50: percentile(s, 50), p99: percentile(s, 99), count: s.length, requestsPerSecond: Math.round(s.length / seconds) },
    connect: { p50: percentile(c, 50), p99: percentile(c, 99), count: c.length },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
  process.stdout.write(JSON.stringify(out));
});
instance.on("response", (client: object, _status: number, _bytes: number, ms: number) => {
  if (opened.has(client)) {
    if (steadyStart === 0) steadyStart = performance.now() - ms;
    steady.push(ms);
    steadyEnd = performance.now();
  } else {
    opened.add(client);
    connect.push(ms);
  }
});
