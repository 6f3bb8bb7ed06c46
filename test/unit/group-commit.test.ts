import { batched, groupCommit } from '../../store/group-commit';

/** A writer whose commands finish only when the test says so. */
function heldWriter() {
  const calls: { items: string[]; finish: (err?: Error) => void }[] = [];
  const write = (items: string[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ items, finish: (err) => (err ? reject(err) : resolve()) });
    });
  return { calls, write };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test('a write with nothing in flight goes at once, alone', async () => {
  const w = heldWriter();
  const g = groupCommit(w.write);
  const done = g.add('a');
  expect(w.calls.map((c) => c.items)).toEqual([['a']]);
  w.calls[0].finish();
  await expect(done).resolves.toBeUndefined();
});

test('writes that come while one is in flight go together in the next command, each answered once it is written', async () => {
  const w = heldWriter();
  const g = groupCommit(w.write);
  const answered: string[] = [];
  const add = (x: string) => g.add(x).then(() => void answered.push(x));
  const all = ['a', 'b', 'c', 'd'].map(add);
  expect(w.calls.map((c) => c.items)).toEqual([['a']]);
  w.calls[0].finish();
  await settled();
  expect(answered).toEqual(['a']);
  expect(w.calls.map((c) => c.items)).toEqual([['a'], ['b', 'c', 'd']]);
  w.calls[1].finish();
  await Promise.all(all);
  expect(answered).toEqual(['a', 'b', 'c', 'd']);
});

test('a failed command rejects its own batch only, and the next batch still goes', async () => {
  const w = heldWriter();
  const g = groupCommit(w.write);
  const first = g.add('a');
  const second = g.add('b');
  w.calls[0].finish(new Error('store refused'));
  await expect(first).rejects.toThrow('store refused');
  await settled();
  expect(w.calls.map((c) => c.items)).toEqual([['a'], ['b']]);
  w.calls[1].finish();
  await expect(second).resolves.toBeUndefined();
  // Idle again: the next write goes at once.
  const third = g.add('c');
  expect(w.calls.map((c) => c.items)).toEqual([['a'], ['b'], ['c']]);
  w.calls[2].finish();
  await third;
});

test('a batch the store refuses is written again one item at a time, and only the item that fails again is rejected', async () => {
  const many: string[][] = [];
  const one: string[] = [];
  let hold: (() => void) | undefined;
  const g = groupCommit(
    async (items: string[]) => {
      many.push(items);
      throw new Error('a duplicate key stopped the batch');
    },
    async (item: string) => {
      one.push(item);
      if (item === 'a') await new Promise<void>((resolve) => (hold = resolve));
      if (item === 'c') throw new Error('c refused');
    },
  );
  const a = g.add('a');
  const rest = ['b', 'c', 'd'].map((x) => g.add(x).then(() => 'ok', (e: Error) => e.message));
  hold!();
  await a;
  // 'a' went alone through the single-item write; the batch b, c, d failed and went again item by item.
  expect(await Promise.all(rest)).toEqual(['ok', 'c refused', 'ok']);
  expect(many).toEqual([['b', 'c', 'd']]);
  expect(one).toEqual(['a', 'b', 'c', 'd']);
});

test('reads that come while one is in flight go in one, each caller answered its own', async () => {
  const asked: string[][] = [];
  let hold: (() => void) | undefined;
  const reads = batched<string, number>(async (keys) => {
    asked.push(keys);
    if (asked.length === 1) await new Promise<void>((resolve) => (hold = resolve));
    return keys.map((k) => ({ ok: true, value: k.length }));
  });
  const first = reads.add('x');
  const later = ['yy', 'zzz'].map((k) => reads.add(k));
  hold!();
  expect(await first).toBe(1);
  expect(await Promise.all(later)).toEqual([2, 3]);
  expect(asked).toEqual([['x'], ['yy', 'zzz']]);
});

test('a backlog past the largest batch goes out as several commands in order', async () => {
  const w = heldWriter();
  const g = batched(async (items: string[]) => (await w.write(items), items.map(() => ({ ok: true as const, value: undefined }))), 2);
  const all = ['a', 'b', 'c', 'd', 'e'].map((x) => g.add(x));
  for (let i = 0; i < 3; i++) {
    w.calls[i].finish();
    await settled();
  }
  await Promise.all(all);
  expect(w.calls.map((c) => c.items)).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
});

test('a command that does not answer within the wait lets the calls behind it go, and its own callers get its late answer', async () => {
  jest.useFakeTimers();
  try {
    const asked: string[][] = [];
    let late: ((v: { ok: true; value: string }[]) => void) | undefined;
    const reads = batched<string, string>(
      (keys) => {
        asked.push(keys);
        // The first command answers only after the wait; the next at once.
        return asked.length === 1 ? new Promise((resolve) => (late = resolve)) : Promise.resolve(keys.map((k) => ({ ok: true as const, value: k.toUpperCase() })));
      },
      500,
      1_000,
    );
    let hungSettled = false;
    const hung = reads.add('a').finally(() => (hungSettled = true));
    const behind = reads.add('b');
    await jest.advanceTimersByTimeAsync(999);
    expect(asked).toEqual([['a']]);
    await jest.advanceTimersByTimeAsync(1);
    await expect(behind).resolves.toBe('B');
    expect(asked).toEqual([['a'], ['b']]);
    // Not failed for the wait: the store may yet make the write, and here it answers.
    expect(hungSettled).toBe(false);
    late!([{ ok: true, value: 'late A' }]);
    await expect(hung).resolves.toBe('late A');
  } finally {
    jest.useRealTimers();
  }
});
