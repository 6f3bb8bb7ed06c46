import { busiestWindow } from '../../bench/helpers';

test('busiestWindow counts the most events inside any window that begins at one of them', () => {
  expect(busiestWindow([], 1000)).toBe(0);
  expect(busiestWindow([0, 100, 999, 1000, 1500, 1999], 1000)).toBe(3);
  // Order does not matter, and an event exactly a window later falls in the next window.
  expect(busiestWindow([2000, 0, 1000, 1001, 1999, 1002], 1000)).toBe(4);
});
