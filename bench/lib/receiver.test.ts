import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { buildReceiver, startReceiver } from './receiver.ts';
import { verifyKept } from './webhooks.ts';

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

// hack/build-tools.sh builds it with Go, which the test command needs anyway (the verdict helpers).
describe('the stand-in automation server (bench/receiver)', () => {
  it('verifies every signature, counts by the URL’s last segment and keeps deliveries whole', async () => {
    const secret = newSecret();
    const receiver = await startReceiver(await buildReceiver(() => undefined), secret);
    try {
      const body = JSON.stringify({
        specversion: '1.0',
        type: 'dev.greenlight.request.approved',
        source: '/apis/greenlight.dev/v1alpha1/namespaces/bench-a/approvalrequests/req-0',
        id: 'evt-1',
      });
      const post = async (segment: string, signer: Webhook): Promise<number> => {
        const id = `msg_${segment}`;
        const at = new Date();
        const response = await fetch(`${receiver.url}/${segment}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/cloudevents+json',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signer.sign(id, at, body),
          },
          body,
        });
        await response.arrayBuffer();
        return response.status;
      };
      expect(await post('bench-a', new Webhook(secret))).toBe(204);
      // Signed with another secret: the receiver must refuse it.
      expect(await post('bench-b', new Webhook(newSecret()))).toBe(401);

      const counts = await receiver.counts();
      expect(counts.connections).toBeGreaterThanOrEqual(1);
      const a = counts.segments['bench-a'];
      const b = counts.segments['bench-b'];
      expect(a).toMatchObject({ delivered: 1, invalid: 0 });
      expect(b).toMatchObject({ delivered: 0, invalid: 1 });
      // The first delivery of each segment is kept whole, and verifies with the standardwebhooks package.
      expect(a?.kept).toHaveLength(1);
      expect(a?.kept[0]?.body).toBe(body);
      expect(verifyKept(a?.kept ?? [], secret, 'bench-a')).toBe(1);
      expect(() => verifyKept(b?.kept ?? [], secret, 'bench-a')).toThrow(/signature/i);
      // Handed out once.
      expect((await receiver.counts()).segments['bench-a']).toEqual({ delivered: 1, invalid: 0, kept: [] });
      expect(receiver.cpuSeconds()).toBeGreaterThanOrEqual(0);
    } finally {
      await receiver.stop();
    }
    expect(receiver.cpuSeconds()).toBeUndefined();
  }, 120_000);
});
