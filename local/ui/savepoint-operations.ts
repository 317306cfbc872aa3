/**
 * Savepoints and stops the REST API triggered, as Flink's asynchronous operations: a POST
 * answers with a `request-id` once the job accepted the request, and
 * `GET /jobs/:id/savepoints/:request-id` reports `IN_PROGRESS` until the savepoint completed
 * (with its location) or failed (with why). Each runs `takeSavepoint`, what `tidemark
 * savepoint` and `tidemark stop` run.
 *
 * What must hold: a request the job refuses (not running, another savepoint pending, a name
 * taken) is the POST's error, and nothing is registered for it; an accepted one is always
 * registered before the POST answers, so its id can be polled at once.
 */
import { randomUUID } from 'node:crypto';
import { takeSavepoint, type SavepointResult } from '../savepoint-commands.js';
import type { Target } from '../target.js';

export type OperationStatus =
  | { readonly status: { readonly id: 'IN_PROGRESS' }; readonly job: string; readonly name: string; readonly stop: boolean }
  | { readonly status: { readonly id: 'COMPLETED' }; readonly job: string; readonly name: string; readonly stop: boolean; readonly operation: SavepointResult | { readonly 'failure-cause': { readonly message: string } } };

/** The operations of one UI server, by request id. */
export class SavepointOperations {
  readonly #ops = new Map<string, OperationStatus>();

  /** Resolves with the request id once the job accepted the request; rejects, registering nothing, if it refused. */
  start(target: Target, job: string, name: string, stop: boolean): Promise<string> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      let accepted = false;
      const requested = () => {
        accepted = true;
        this.#ops.set(id, { status: { id: 'IN_PROGRESS' }, job, name, stop });
        resolve(id);
      };
      takeSavepoint(target, job, name, stop, requested).then(
        (result) => this.#ops.set(id, { status: { id: 'COMPLETED' }, job, name, stop, operation: result }),
        (e: unknown) => {
          if (!accepted) return reject(e);
          const message = e instanceof Error ? e.message : String(e);
          this.#ops.set(id, { status: { id: 'COMPLETED' }, job, name, stop, operation: { 'failure-cause': { message } } });
        },
      );
    });
  }

  get(job: string, id: string): OperationStatus | null {
    const op = this.#ops.get(id);
    return op && op.job === job ? op : null;
  }
}
