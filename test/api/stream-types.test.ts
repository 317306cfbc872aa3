/**
 * The pipeline API's types: what each operator returns is typed from the functions given to
 * it, and a keyed process function's result from the output it declares. The assertions are
 * checked by the type checker (`tsc --noEmit`, which covers test/); at run time they only
 * build the job, which must stay valid.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  collect,
  generator,
  job,
  mapState,
  output,
  tumbling,
  valueState,
  type KeyedStream,
  type ProcessResult,
  type Stream,
  type WindowResult,
} from '../../lib/api/index.js';

interface Click {
  readonly user: string;
  readonly page: string;
}
interface Visits {
  readonly user: string;
  readonly total: number;
}

const clicks = (name: string) =>
  job(name).source('src', generator({ count: 20, make: (i): Click => ({ user: `u${i % 3}`, page: `p${i % 2}` }), timestamp: (i) => i }), {
    watermarks: { outOfOrderness: 0 },
  });

describe('keyed process()', () => {
  it('returns a stream of the declared output type, and ctx is typed from the state and key', () => {
    const keyed = clicks('typed-process').keyBy((c) => c.user);
    expectTypeOf(keyed).toEqualTypeOf<KeyedStream<Click, string>>();
    const visits = keyed.process('visits', {
      state: { total: valueState<number>(), pages: mapState<string, number>() },
      output: output<Visits>(),
      processElement(click, ctx) {
        expectTypeOf(click).toEqualTypeOf<Click>();
        expectTypeOf(ctx.key).toEqualTypeOf<string>();
        expectTypeOf(ctx.state.total.value()).toEqualTypeOf<number | undefined>();
        expectTypeOf(ctx.state.pages.get).parameter(0).toEqualTypeOf<string>();
        const total = (ctx.state.total.value() ?? 0) + 1;
        ctx.state.total.update(total);
        ctx.emit({ user: ctx.key, total });
        // @ts-expect-error: emit takes the declared output type only
        ctx.emit({ user: ctx.key });
      },
    });
    expectTypeOf(visits).toEqualTypeOf<ProcessResult<Visits>>();
    const totals = visits.map('total', (v) => v.total);
    expectTypeOf(totals).toEqualTypeOf<Stream<number>>();
    totals.sink('out', collect());
  });

  it('without a declared output, returns a Stream<unknown> whose emit takes anything, as before', () => {
    const j = job('untyped-process');
    const untyped = j.source('src', generator({ count: 5, make: (i) => i })).keyBy((i) => i % 2).process('p', {
      state: {},
      processElement(value, ctx) {
        ctx.emit(value);
        ctx.emit('anything');
      },
    });
    expectTypeOf(untyped).toEqualTypeOf<ProcessResult<unknown>>();
    untyped.sink('out', collect());
    expect(j.build().operators.find((o) => o.name === 'p')?.spec).toMatchObject({ kind: 'process', state: {} });
  });

  it('declaring the output changes nothing in the job graph', () => {
    const build = (declared: boolean) => {
      const j = job('same-graph');
      j.source('src', generator({ count: 5, make: (i) => ({ k: `k${i % 2}`, i }) }))
        .keyBy((e) => e.k)
        .process('p', { state: { n: valueState<number>() }, ...(declared ? { output: output<number>() } : {}), processElement: (e, ctx) => ctx.emit(e.i) })
        .sink('out', collect());
      return j.build().operators.map((o) => ({ name: o.name, fields: Object.keys(o.spec), state: 'state' in o.spec ? o.spec.state : null }));
    };
    expect(build(true)).toEqual(build(false));
  });
});

describe('the other operators', () => {
  it('type their result from the functions they are given', () => {
    const src = clicks('typed-operators');
    expectTypeOf(src).toEqualTypeOf<Stream<Click>>();
    expectTypeOf(src.map('m', (c) => c.page.length)).toEqualTypeOf<Stream<number>>();
    expectTypeOf(src.flatMap('f', (c) => [c.user, c.page])).toEqualTypeOf<Stream<string>>();
    expectTypeOf(src.filter('x', (c) => c.page === 'p0')).toEqualTypeOf<Stream<Click>>();
    const keyed = src.keyBy((c) => c.user);
    expectTypeOf(keyed.reduce('r', (a) => a)).toEqualTypeOf<Stream<Click>>();
    expectTypeOf(keyed.aggregate('a', { create: () => 0, add: (n) => n + 1, result: (n, user) => ({ user, n }) })).toEqualTypeOf<Stream<{ user: string; n: number }>>();
    const windows = keyed.window(tumbling(10), { late: 'side-output' });
    const counted = windows.aggregate('w', { create: () => 0, add: (n) => n + 1, result: (n, user, w) => ({ user, n, end: w.end }) });
    expectTypeOf(counted).toEqualTypeOf<WindowResult<{ user: string; n: number; end: number }, Click>>();
    expectTypeOf(counted.lateRecords()).toEqualTypeOf<Stream<Click>>();
    expectTypeOf(windows.process<string>('wp', (user, _w, elements, emit) => emit(`${user}:${elements.length}`))).toEqualTypeOf<WindowResult<string, Click>>();
  });
});
