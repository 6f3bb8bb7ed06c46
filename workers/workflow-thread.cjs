'use strict';
/*
 * The worker's workflow thread (started by workers/workflow-guard.ts): the SDK's own thread, with one
 * change. The SDK passes `timeout` on every call into a workflow's sandbox, and for each such call
 * Node starts a watchdog thread and joins it when the call returns: about 0.1 ms on an idle machine
 * and 0.5 ms on a busy one, several times per activation. Here the calls run without it, and each
 * call's start time is published in shared memory instead; the main thread reads it once a second
 * and stops this thread when one call outlasts the bound.
 */
const { workerData } = require('node:worker_threads');
const vm = require('node:vm');

const runningSince = new Int32Array(workerData.runningSince);
const clockBase = workerData.clockBase;
const runInContext = vm.Script.prototype.runInContext;
let depth = 0;

vm.Script.prototype.runInContext = function runWithoutWatchdog(context, options) {
  let own = options;
  if (options && typeof options === 'object' && 'timeout' in options) {
    own = { ...options };
    delete own.timeout;
  }
  // Tenths of a second since clockBase, plus one so that 0 means "not running".
  if (depth++ === 0) Atomics.store(runningSince, 0, Math.floor((Date.now() - clockBase) / 100) + 1);
  try {
    return runInContext.call(this, context, own);
  } finally {
    if (--depth === 0) Atomics.store(runningSince, 0, 0);
  }
};

require('@temporalio/worker/lib/workflow/workflow-worker-thread');
