/**
 * `greenlight wait`'s (and `request --wait`'s) exit statuses. Their own module: the CLI's entry point
 * reads them without loading wait.ts, whose watch is client-node's (the controller, started through
 * the same entry point, loads no client-node; docs/benchmarks.md, F12).
 */
export const WaitExit = { Approved: 0, Denied: 1, Expired: 2, TimedOut: 3 } as const;
