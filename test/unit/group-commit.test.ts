import { groupCommit } from '../../store/group-commit';

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

test("a failed command rejects its own batch only, and the next batch still goes", async () => {
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
  void g.add('c');
  expect(w.calls.map((c) => c.items)).toEqual([['a'], ['b'], ['c']]);
});

test('a backlog past the largest batch goes out as several commands in order', async () => {
  const w = heldWriter();
  const g = groupCommit(w.write, 2);
  const all = ['a', 'b', 'c', 'd', 'e'].map((x) => g.add(x));
  for (let i = 0; i < 3; i++) {
    w.calls[i].finish();
    await settled();
  }
  await Promise.all(all);
  expect(w.calls.map((c) => c.items)).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
});
