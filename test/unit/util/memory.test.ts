import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectWhen, fullCollection, rssAbove } from '../../../src/util/memory.ts';

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

describe('rssAbove (the pool memory valve)', () => {
  it('reads the resident size at most once per interval and answers from the last reading', async () => {
    let clock = 0;
    const readings = [100, 300, 50];
    let reads = 0;
    const above = rssAbove(
      200,
      () => readings[reads++]!,
      () => clock,
      20,
    );
    expect(above()).toBe(false); // first call reads: 100
    clock = 19;
    expect(above()).toBe(false); // within the interval: no read
    expect(reads).toBe(1);
    clock = 20;
    expect(above()).toBe(true); // reads again: 300
    clock = 39;
    expect(above()).toBe(true);
    expect(reads).toBe(2);
    clock = 45;
    expect(above()).toBe(false); // 50
    expect(reads).toBe(3);
  });

  it('is not above a limit it only reaches', () => {
    expect(
      rssAbove(
        200,
        () => 200,
        () => 0,
      )(),
    ).toBe(false);
    expect(
      rssAbove(
        200,
        () => 201,
        () => 0,
      )(),
    ).toBe(true);
  });
});
