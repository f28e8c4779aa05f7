// Login throttling by source address (in memory): slows guessing across many user names from one place.
// Per-account lockout lives with the user row (store/users.ts) so it survives a restart.

/** Failures allowed from one address in the window before further attempts are refused. */
export interface ThrottleLimits {
  maxFailures: number;
  windowMs: number;
}

/** Sliding-window counter of failed logins per address; pure apart from the clock passed in. */
export class AddressThrottle {
  private readonly failures = new Map<string, number[]>();
  constructor(private readonly limits: ThrottleLimits) {}

  /** Milliseconds until this address may try again, or 0 when it may try now. */
  retryAfterMs(address: string, now: number): number {
    const recent = this.prune(address, now);
    if (recent.length < this.limits.maxFailures) return 0;
    const oldest = recent[recent.length - this.limits.maxFailures] ?? now;
    return Math.max(1, oldest + this.limits.windowMs - now);
  }

  /** Counts one failed attempt. */
  fail(address: string, now: number): void {
    const recent = this.prune(address, now);
    recent.push(now);
    this.failures.set(address, recent);
    if (this.failures.size > 10_000) this.sweep(now);
  }

  /** A successful login clears the address's record. */
  succeed(address: string): void {
    this.failures.delete(address);
  }

  private prune(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.limits.windowMs);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  private sweep(now: number): void {
    for (const address of [...this.failures.keys()]) this.prune(address, now);
  }
}
