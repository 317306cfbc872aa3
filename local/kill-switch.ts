/**
 * Fault injection for local runs (`--kill-rate P`): a fraction P of invocations dies at a
 * random step of the invocation protocol. Every port call an invocation makes is counted;
 * at the chosen call the invocation stops for good — the call never returns, nothing after
 * it runs, and the host leaves its messages in flight, exactly as when a Lambda process
 * dies. An invocation that finishes before its chosen call survives.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Ports } from '../lib/ports/index.js';

interface Invocation {
  calls: number;
  readonly killAt: number;
  dead: boolean;
  readonly onKill: () => void;
}

/** Port calls an invocation usually makes; the kill step is drawn from 1..this. */
const TYPICAL_STEPS = 12;

export class KillSwitch {
  private readonly als = new AsyncLocalStorage<Invocation>();
  kills = 0;

  constructor(
    private readonly rate: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`kill rate must be between 0 and 1, got ${rate}`);
  }

  /**
   * Runs `body` as one invocation. Resolves with its result, or with `killed` if it died;
   * a dead invocation's own promise is abandoned, never settled.
   */
  run<T>(body: () => Promise<T>): Promise<{ killed: false; value: T } | { killed: true }> {
    if (this.rate === 0) return body().then((value) => ({ killed: false as const, value }));
    return new Promise((resolve, reject) => {
      const killAt = this.random() < this.rate ? 1 + Math.floor(this.random() * TYPICAL_STEPS) : Number.POSITIVE_INFINITY;
      const invocation: Invocation = {
        calls: 0,
        killAt,
        dead: false,
        onKill: () => {
          this.kills++;
          resolve({ killed: true });
        },
      };
      this.als.run(invocation, () => {
        body().then((value) => {
          if (!invocation.dead) resolve({ killed: false, value });
        }, reject);
      });
    });
  }

  /** Ports whose every call may be the one an invocation dies at. */
  wrap(ports: Ports): Ports {
    const gate = async (): Promise<void> => {
      const inv = this.als.getStore();
      if (!inv) return;
      if (inv.dead || ++inv.calls < inv.killAt) {
        if (inv.dead) await new Promise<never>(() => {});
        return;
      }
      inv.dead = true;
      inv.onKill();
      await new Promise<never>(() => {});
    };
    const wrapObject = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(obj, prop, receiver) {
          const value = Reflect.get(obj, prop, receiver);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await gate();
            return (value as (...a: unknown[]) => unknown).apply(obj, args);
          };
        },
      });
    return {
      queue: wrapObject(ports.queue),
      blobs: wrapObject(ports.blobs),
      manifest: wrapObject(ports.manifest),
      state: wrapObject(ports.state),
      logs: wrapObject(ports.logs),
      outputs: wrapObject(ports.outputs),
      clock: ports.clock,
    };
  }
}
