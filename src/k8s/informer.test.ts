import { describe, expect, it } from 'vitest';
import { trimmed } from './informer.ts';

describe('trimmed', () => {
  it('drops managedFields and keeps everything else', () => {
    const object = {
      metadata: {
        name: 'r',
        resourceVersion: '7',
        managedFields: [{ manager: 'kubectl', operation: 'Update' }],
      },
      spec: { action: 'deploy' },
    };
    expect(trimmed(object)).toEqual({
      metadata: { name: 'r', resourceVersion: '7' },
      spec: { action: 'deploy' },
    });
  });

  it('leaves objects without metadata alone', () => {
    expect(trimmed({ kind: 'Status' })).toEqual({ kind: 'Status' });
    expect(trimmed(null)).toBeNull();
  });
});
