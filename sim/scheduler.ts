/**
 * A seeded cooperative scheduler. Every call a task makes through a port first parks at a
 * `point`; the scheduler picks which parked task runs next, so concurrent invocations
 * interleave at every I/O boundary in an order decided by the seed. A task picked to crash
 * is never resumed: nothing after that point runs, exactly like a Lambda that dies.
 * A stalled task is held back until the clock passes a time (a zombie in the making).
 *
 * A task may run several branches at once (Promise.all over message groups); each branch
 * parks on its own, as a fiber. After resuming one, the scheduler waits for a macrotask
 * turn: with in-memory ports every continuation is a microtask, so by then the task has
 * parked again, finished, or is waiting for its other parked fibers. Only the resumed
 * task's continuations can run in that window (every other task waits on a promise only
 * the scheduler resolves), so the task calling `point` is simply the one last resumed.
 */
import type { Random } from '../lib/core/rng.js';

export interface Task {
  readonly id: number;
  readonly name: string;
  done: boolean;
  crashed: boolean;
  error: unknown;
  /** Not resumable before this clock time. */
  stalledUntil: number;
  /** Not resumable before this clock time (sleeping). */
  wakeAt: number;
  /** Points passed; crash injection needs the step count. */
  steps: number;
}

export interface SchedulerOptions {
  readonly random: Random;
  readonly now: () => number;
  /** Probability that resuming a task kills it instead. */
  crashProbability: number;
  /** Probability that resuming a task stalls it past the visibility timeout instead. */
  stallProbability: number;
  readonly stallMs: number;
  /** Probability that a write takes effect but its caller sees an error (a lost response). */
  lostResponseProbability: number;
  /** A task name matching this may crash (e.g. restores only in some runs). */
  readonly crashable?: (task: Task) => boolean;
}

export class SimScheduler {
  /** The task running between a resume and the end of that step, or null. */
  private current: Task | null = null;
  private readonly parked: Fiber[] = [];
  private nextId = 0;
  readonly stats = { spawned: 0, crashed: 0, stalled: 0, resumed: 0, lostResponses: 0 };
  /** Where each crash happened: the task's name and the point it never got past. */
  readonly crashes: { task: string; at: string }[] = [];
  /** Errors thrown by tasks that are not expected (bugs): the harness reports them. */
  readonly failures: { task: string; error: unknown }[] = [];

  constructor(readonly options: SchedulerOptions) {}

  /** Tasks with a parked fiber. */
  get busy(): number {
    return new Set(this.parked.map((f) => f.task)).size;
  }

  tasks(): Task[] {
    return [...new Set(this.parked.map((f) => f.task))];
  }

  /** Starts a task parked before its first step; it runs only when the scheduler picks it. */
  spawn(name: string, body: () => Promise<void>): Task {
    const task: Task = {
      id: ++this.nextId,
      name,
      done: false,
      crashed: false,
      error: undefined,
      stalledUntil: 0,
      wakeAt: 0,
      steps: 0,
    };
    this.stats.spawned++;
    void this.park(task)
      .then(body)
      .catch((e) => {
        task.error = e;
        this.failures.push({ task: name, error: e });
      })
      .finally(() => {
        task.done = true;
      });
    return task;
  }

  /** Called before every port call of the current task. Outside a task it does nothing. */
  point(label: string): Promise<void> {
    const task = this.current;
    if (!task) return Promise.resolve();
    return this.park(task, label);
  }

  private park(task: Task, label = 'start'): Promise<void> {
    return new Promise<void>((resume) => {
      task.steps++;
      this.parked.push({ task, label, resume });
    });
  }

  /** A draw from the run's random stream, for a decision an adapter model makes (how much a read returns). */
  draw(): number {
    return this.options.random();
  }

  /** Decides, for a write the current task just made, whether its response is lost. */
  loseResponse(): boolean {
    if (!this.current || this.options.lostResponseProbability === 0) return false;
    if (this.options.random() >= this.options.lostResponseProbability) return false;
    this.stats.lostResponses++;
    return true;
  }

  /** Parks the current task until the clock reaches `until`. */
  sleepUntil(until: number): Promise<void> {
    const task = this.current;
    if (!task) return Promise.resolve();
    task.wakeAt = until;
    return this.point('sleep');
  }

  runnable(): Fiber[] {
    const now = this.options.now();
    return this.parked.filter((f) => f.task.stalledUntil <= now && f.task.wakeAt <= now);
  }

  /** Resumes (or crashes, or stalls) one runnable fiber and waits until its task settles. */
  async step(): Promise<boolean> {
    const ready = this.runnable();
    if (ready.length === 0) return false;
    const { random } = this.options;
    const fiber = ready[Math.floor(random() * ready.length)]!;
    const task = fiber.task;
    const crashable = this.options.crashable?.(task) ?? true;
    if (crashable && task.steps > 1 && random() < this.options.crashProbability) {
      // Never resumed: every fiber of the task is abandoned, like a Lambda that dies.
      task.crashed = true;
      this.stats.crashed++;
      this.crashes.push({ task: task.name, at: fiber.label });
      for (let i = this.parked.length - 1; i >= 0; i--) if (this.parked[i]!.task === task) this.parked.splice(i, 1);
      return true;
    }
    if (crashable && task.stalledUntil === 0 && random() < this.options.stallProbability) {
      task.stalledUntil = this.options.now() + this.options.stallMs;
      this.stats.stalled++;
      return true;
    }
    this.parked.splice(this.parked.indexOf(fiber), 1);
    this.stats.resumed++;
    task.wakeAt = 0;
    this.current = task;
    fiber.resume();
    await new Promise<void>((settled) => setImmediate(settled));
    this.current = null;
    return true;
  }
}

interface Fiber {
  readonly task: Task;
  /** The point it is parked at. */
  readonly label: string;
  readonly resume: () => void;
}
