import { describe, expect, it } from 'vitest';
import { decideTimer } from '../../lib/core/coordinator-timer.js';

const PERIOD = 2000;

describe('the coordinator timer chain', () => {
  it('ticks and moves on for the live token, drops other tokens', () => {
    expect(decideTimer({ kind: 'timer', token: 4 }, { token: 4, firedAt: 1000 }, 3000, PERIOD)).toEqual({ tick: true, arm: { token: 5, delaySeconds: 2 } });
    expect(decideTimer({ kind: 'timer', token: 2 }, { token: 4, firedAt: 1000 }, 9000, PERIOD)).toEqual({ tick: false, arm: null });
    expect(decideTimer({ kind: 'timer', token: 5 }, { token: 4, firedAt: 1000 }, 9000, PERIOD)).toEqual({ tick: false, arm: null });
  });

  it('drops an early duplicate of the message that moved the chain (the chain is alive)', () => {
    expect(decideTimer({ kind: 'timer', token: 3 }, { token: 4, firedAt: 10_000 }, 10_500, PERIOD)).toEqual({ tick: false, arm: null });
  });

  it('re-arms when that message comes back long after: its next message was never sent', () => {
    expect(decideTimer({ kind: 'timer', token: 3 }, { token: 4, firedAt: 10_000 }, 10_000 + 2 * PERIOD + 1, PERIOD)).toEqual({
      tick: true,
      arm: { token: 5, delaySeconds: 2 },
    });
  });

  it('the heartbeat restarts a chain that has been quiet for three periods', () => {
    expect(decideTimer({ kind: 'heartbeat' }, { token: 4, firedAt: 10_000 }, 10_000 + 3 * PERIOD + 1, PERIOD).arm).toEqual({ token: 5, delaySeconds: 2 });
    expect(decideTimer({ kind: 'heartbeat' }, { token: 4, firedAt: 10_000 }, 10_000 + PERIOD, PERIOD).arm).toBeNull();
  });
});
