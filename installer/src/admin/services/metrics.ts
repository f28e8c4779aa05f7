// Prometheus text exposition of the admin service's own counters (no client library needed for a handful of series).

/** Counters kept in memory since start; gauges are read at scrape time by the caller. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, { sum: number; count: number }>();
  readonly logins = { success: 0, failure: 0, locked: 0 };

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${escapeLabel(route)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const dkey = `method="${method}",route="${escapeLabel(route)}"`;
    const d = this.durations.get(dkey) ?? { sum: 0, count: 0 };
    d.sum += seconds;
    d.count += 1;
    this.durations.set(dkey, d);
  }

  /** The exposition text; `gauges` are name → value pairs read by the caller. */
  render(gauges: Record<string, { help: string; value: number }>): string {
    const out: string[] = [];
    out.push("# HELP omstack_admin_http_requests_total HTTP requests served, by route and status.", "# TYPE omstack_admin_http_requests_total counter");
    for (const [k, v] of this.requests) out.push(`omstack_admin_http_requests_total{${k}} ${v}`);
    out.push("# HELP omstack_admin_http_request_duration_seconds Time to answer HTTP requests.", "# TYPE omstack_admin_http_request_duration_seconds summary");
    for (const [k, d] of this.durations) out.push(`omstack_admin_http_request_duration_seconds_sum{${k}} ${d.sum}`, `omstack_admin_http_request_duration_seconds_count{${k}} ${d.count}`);
    out.push("# HELP omstack_admin_logins_total Login attempts by result.", "# TYPE omstack_admin_logins_total counter");
    for (const [k, v] of Object.entries(this.logins)) out.push(`omstack_admin_logins_total{result="${k}"} ${v}`);
    for (const [name, g] of Object.entries(gauges)) out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    return out.join("\n") + "\n";
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
