import { describe, expect, it } from 'vitest';
import { fencedWritesIn } from './replicas.ts';

describe("the fence's refusals in a controller's log", () => {
  it('counts each refused write once, and the queued Events dropped together by their number', () => {
    const log = [
      '{"level":"warn","msg":"Reconcile failed","error":"PATCH /apis/x/status not sent: this process is no longer the leader"}',
      '{"level":"warn","msg":"Slack call failed","failure":"no longer the leader"}',
      '{"level":"info","msg":"Events not recorded","error":"1264 event(s) not recorded: this process is no longer the leader"}',
      '{"level":"info","msg":"Decided ApprovalRequest"}',
    ].join('\n');
    expect(fencedWritesIn(log)).toBe(1 + 1 + 1264);
    expect(fencedWritesIn('')).toBe(0);
  });
});
