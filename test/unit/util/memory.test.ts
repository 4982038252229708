import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectWhen, fullCollection } from '../../../src/util/memory.ts';

describe('fullCollection', () => {
  it('collects an object nothing references any more', async () => {
    let target: object | undefined = { big: new Array(1000).fill(0) };
    const ref = new WeakRef(target);
    target = undefined;
    // A WeakRef's target stays alive until the job that made it is over.
    await tick();
    fullCollection()();
    expect(ref.deref()).toBeUndefined();
  });

  it('is one function, made once', () => {
    expect(fullCollection()).toBe(fullCollection());
  });
});

describe('collectWhen (the pool collects before the memory valve trips)', () => {
  const MB = 1024 * 1024;
  const setup = () => {
    const state = { above: false, used: 40 * MB, t: 0, collected: 0 };
    const check = collectWhen(() => state.above, {
      used: () => state.used,
      collect: () => {
        state.collected++;
        state.used = 30 * MB;
      },
      now: () => state.t,
      growth: 16 * MB,
      intervalMs: 250,
    });
    return { state, check };
  };

  it('collects only while memory is above its bound', () => {
    const { state, check } = setup();
    expect(check()).toBe(false);
    state.above = true;
    expect(check()).toBe(true);
    expect(state.collected).toBe(1);
  });

  it('waits for the interval and for the heap to grow again by `growth` since the last collection', () => {
    const { state, check } = setup();
    state.above = true;
    expect(check()).toBe(true);
    // What the collection left: 30 MB. Grown by 16 MB, but too soon.
    state.used = 46 * MB;
    state.t = 249;
    expect(check()).toBe(false);
    // Time enough, but grown by less than 16 MB.
    state.used = 45 * MB;
    state.t = 1000;
    expect(check()).toBe(false);
    state.used = 46 * MB;
    expect(check()).toBe(true);
    expect(state.collected).toBe(2);
    // Still above its bound, nothing grew: no collection however long it stays so.
    state.t = 60_000;
    expect(check()).toBe(false);
    expect(state.collected).toBe(2);
  });
});
