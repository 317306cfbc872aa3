/**
 * Fault injection (`--kill-rate P`): a fraction P of invocations dies at a random step of the
 * invocation protocol. Every port call an invocation makes is counted; at the chosen call the
 * invocation stops for good — the call never returns and nothing after it runs. An invocation
 * that finishes before its chosen call survives, and the next one dies at its first call, so
 * that the kills drawn all land.
 *
 * Two users: the local host of `tidemark run`, which then leaves the invocation's messages in
 * flight as Lambda does when a process dies; and a deployed operator function whose stack was
 * synthesized with `faultInjection` (`deploy --local --kill-rate`), which then really dies
 * (`dieNow`), so the emulator's event source mapping sees a crashed invocation.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConfigError } from '../core/errors.js';
import type { Ports } from '../ports/index.js';

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
  /** The last drawn kill did not land: the next invocation dies. */
  private owed = false;

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
      // A kill drawn for an invocation that finished before its step is owed to the next one
      // (at its first call): the rate is the fraction of invocations that die, not of draws.
      const owed = this.owed;
      this.owed = false;
      const killAt = owed ? 1 : this.random() < this.rate ? 1 + Math.floor(this.random() * TYPICAL_STEPS) : Number.POSITIVE_INFINITY;
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
          if (invocation.dead) return;
          if (Number.isFinite(invocation.killAt)) this.owed = true;
          resolve({ killed: false, value });
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
      streams: wrapObject(ports.streams),
      clock: ports.clock,
    };
  }
}

/**
 * The rate a deployed function was given (infra's `faultInjection`), or none. A value that
 * is not a rate is a deployment error, said once at cold start rather than ignored.
 */
export function killRateFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const rate = Number(value);
  if (!(rate >= 0 && rate < 1)) throw new ConfigError('TIDEMARK_KILL_RATE', `must be a number from 0 up to (not including) 1, got ${JSON.stringify(value)}`);
  return rate;
}

/** Ends this process at once, as a crash would: no handler, no flush, no response. */
export function dieNow(): Promise<never> {
  process.kill(process.pid, 'SIGKILL');
  return new Promise<never>(() => {});
}
