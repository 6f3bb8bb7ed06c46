import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCarrier, type Carrier } from '../dev/carrier/carrier';
import { carrierContentFor } from '../dev/content-templates';
import { DEV_API_KEY, DEV_META_ACCESS_TOKEN, DEV_META_APP_SECRET, DEV_META_VERIFY_TOKEN, DEV_PAGE_TOKEN_SECRET, DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN } from '../dev/dev-env';
import { findFreePort } from '../dev/free-port';
import { httpOk, startNodeProcess, waitUntil, type ManagedProcess } from '../dev/processes';
import { startFerretDb, startTemporalDevServer } from '../dev/servers';
import { withWorkerHeapLimit } from '../dev/worker-heap';
import { cpuPer, readCpu } from './cpu-times';
import { busiestWindow } from './helpers';
import { parseBusinesses } from '../domain/business';
import { searchAttributeDefinitions } from '../workflows/search-attributes';

/**
 * `npm run bench:campaign`: a CSV campaign through the `optinflow` CLI on the embedded stack
 * (Temporal dev server, FerretDB, the local carrier, the production worker and API as their own
 * processes), with contacts answering YES, NO or nothing in set shares. Not a test: it prints figures.
 *
 * BENCH_ROWS (10000), BENCH_YES (0.6), BENCH_NO (0.2) — the rest never answer —, BENCH_RATE (SMS per
 * second, 20), BENCH_WAIT (how long a journey waits for an answer, "2m"). TEMPORAL_ADDRESS and
 * MONGODB_URI use running servers instead of starting them.
 */

const repoRoot = path.resolve(__dirname, '..');
const rows = Number(process.env.BENCH_ROWS ?? 10_000);
const yesShare = Number(process.env.BENCH_YES ?? 0.6);
const noShare = Number(process.env.BENCH_NO ?? 0.2);
// What two cores carry end to end (request, answer, consent, confirmation); faster pacing only queues
// workflow tasks, and answers that reach a journey after its wait count as expired.
const rate = Number(process.env.BENCH_RATE ?? 20);
const waitFor = process.env.BENCH_WAIT ?? '2m';

const mb = (kb: number | undefined) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

/** Peak resident set size of a live process, from the kernel's high-water mark. */
function peakRssKb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Distinct valid US mobile-range numbers, one per row. */
function phoneOf(i: number): string {
  const areas = ['415', '628', '650', '510', '408', '707', '925', '831', '209', '916'];
  return `+1${areas[Math.floor(i / 10_000) % areas.length]}555${String(i % 10_000).padStart(4, '0')}`;
}

type Answer = 'YES' | 'NO' | undefined;
function answerOf(i: number): Answer {
  const x = (i * 7919) % 1000 / 1000;
  return x < yesShare ? 'YES' : x < yesShare + noShare ? 'NO' : undefined;
}

/** Plays the contacts: answers each request once, in its share, a little after it arrives. */
function startResponder(carrier: Carrier, indexOf: Map<string, number>, sender: string) {
  const seen = new Set<string>();
  const queue: { phone: string; body: string }[] = [];
  let inFlight = 0;
  let sent = 0;
  let failed = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped && inFlight < 16 && queue.length) {
      const next = queue.shift()!;
      inFlight++;
      carrier
        .sendInbound({ from: next.phone, to: sender, body: next.body })
        .then((r) => (r.status === 200 ? sent++ : failed++))
        .catch(() => failed++)
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };
  const timer = setInterval(() => {
    for (const m of carrier.messages({ channel: 'sms', direction: 'outbound-api' })) {
      if (seen.has(m.contact)) continue;
      seen.add(m.contact);
      const i = indexOf.get(m.contact);
      const answer = i === undefined ? undefined : answerOf(i);
      if (answer) queue.push({ phone: m.contact, body: answer });
    }
    pump();
  }, 1000);
  return {
    stats: () => ({ answered: sent, failed, pending: queue.length + inFlight }),
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** What the carrier has seen of the campaign's contacts: requests, answers, and the confirmations after a YES. */
function carrierProgress(carrier: Carrier, indexOf: Map<string, number>): string {
  const ofCampaign = (m: { contact: string }) => indexOf.has(m.contact);
  const requested = new Set(carrier.messages({ channel: 'sms', direction: 'outbound-api' }).filter(ofCampaign).map((m) => m.contact)).size;
  const answers = carrier.messages({ channel: 'sms', direction: 'inbound' }).filter(ofCampaign).length;
  const confirmations = carrier.messages({ channel: 'whatsapp', direction: 'outbound-api' }).filter(ofCampaign).length;
  return `${requested} of ${indexOf.size} contacts asked, ${answers} answers, ${confirmations} WhatsApp confirmations sent`;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; pid?: number }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [path.join(repoRoot, 'bin', 'optinflow.js'), ...args], { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
    child.stderr?.pipe(process.stderr);
  });
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'optinflow-bench-'));
  const stops: (() => Promise<void>)[] = [];
  const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  // Ctrl-C or a kill stops the servers and processes this bench started, not only the bench.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping what the bench started`);
      void (async () => {
        for (const stop of [...stops].reverse()) await stop().catch(() => undefined);
        process.exit(130);
      })();
    });
  }
  try {
    say(`work dir ${workDir}`);
    const temporal = process.env.TEMPORAL_ADDRESS
      ? undefined
      : await startTemporalDevServer({ bin: path.join(repoRoot, '.tools', 'bin', 'temporal'), port: await findFreePort(), uiPort: 'headless', searchAttributes: searchAttributeDefinitions, logFile: path.join(workDir, 'temporal.log') });
    if (temporal) stops.push(() => temporal.stop());
    const ferret = process.env.MONGODB_URI
      ? undefined
      : await startFerretDb({ bin: path.join(repoRoot, '.tools', 'bin', 'ferretdb'), port: await findFreePort(), dataDir: path.join(workDir, 'ferretdb'), logFile: path.join(workDir, 'ferretdb.log') });
    if (ferret) stops.push(() => ferret.stop());
    const temporalAddress = temporal?.address ?? process.env.TEMPORAL_ADDRESS!;
    const mongoUri = ferret ? `${ferret.uri.replace(/\/?$/, '/')}optinflow_bench` : process.env.MONGODB_URI!;

    const demo = JSON.parse(readFileSync(path.join(repoRoot, 'config', 'businesses.demo.json'), 'utf8'));
    for (const b of demo.businesses) {
      b.sending = { smsPerSecond: rate, whatsappPerSecond: rate, whatsappTier: 1_000_000, emailPerSecond: rate, callsPerSecond: rate };
      b.quietHours = { start: '00:00', end: '00:00', defaultTimezone: 'UTC' };
    }
    const businessesFile = path.join(workDir, 'businesses.json');
    writeFileSync(businessesFile, JSON.stringify(demo, null, 2));
    const [acme] = parseBusinesses(demo);

    const carrier = await startCarrier({ httpPort: 0, smtpPort: 0, accountSid: DEV_TWILIO_ACCOUNT_SID, authToken: DEV_TWILIO_AUTH_TOKEN, statusCallbackDelayMs: 200, ...carrierContentFor([acme]) });
    stops.push(() => carrier.close());
    const apiPort = await findFreePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const taskQueue = `bench-${Date.now().toString(36)}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: mongoUri,
      TWILIO_ACCOUNT_SID: DEV_TWILIO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: DEV_TWILIO_AUTH_TOKEN,
      TWILIO_API_BASE_URL: carrier.httpUrl,
      SMTP_URL: `smtp://127.0.0.1:${carrier.smtpPort}`,
      PUBLIC_BASE_URL: apiUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_KEYS: DEV_API_KEY,
      PAGE_TOKEN_SECRET: DEV_PAGE_TOKEN_SECRET,
      META_ACCESS_TOKEN: DEV_META_ACCESS_TOKEN,
      META_APP_SECRET: DEV_META_APP_SECRET,
      META_VERIFY_TOKEN: DEV_META_VERIFY_TOKEN,
      META_GRAPH_BASE_URL: carrier.httpUrl,
      BUSINESSES_FILE: businessesFile,
    };
    const worker: ManagedProcess = startNodeProcess({ name: 'worker', entry: path.join(repoRoot, 'workers', 'main.ts'), env: withWorkerHeapLimit(env), cwd: repoRoot, logFile: path.join(workDir, 'worker.log') });
    stops.push(() => worker.stop());
    const api: ManagedProcess = startNodeProcess({ name: 'api', entry: path.join(repoRoot, 'api', 'server.ts'), env, cwd: repoRoot, logFile: path.join(workDir, 'api.log') });
    stops.push(() => api.stop());
    await waitUntil(() => httpOk(`${apiUrl}/healthz`), { timeoutMs: 120_000, intervalMs: 500, what: 'the API (and a worker polling) to be healthy', process: api });
    carrier.setInboundMessageUrl(`${apiUrl}/webhooks/twilio/messaging`);

    const csv = path.join(workDir, 'contacts.csv');
    const indexOf = new Map<string, number>();
    const lines = ['phone,name'];
    for (let i = 0; i < rows; i++) {
      indexOf.set(phoneOf(i), i);
      lines.push(`${phoneOf(i)},Contact ${i}`);
    }
    writeFileSync(csv, lines.join('\n'));
    const plan = path.join(workDir, 'plan.json');
    writeFileSync(plan, JSON.stringify([{ channel: 'sms', waitFor }]));

    const responder = startResponder(carrier, indexOf, acme.senders.sms);
    say(`running: ${rows} rows, ${rate} SMS/s, answers YES ${yesShare * 100}% / NO ${noShare * 100}% / nothing ${Math.round((1 - yesShare - noShare) * 100)}%, journeys wait ${waitFor}`);
    const cpuGroups = { worker: [worker.child.pid], api: [api.child.pid], temporal: [temporal?.child.pid], ferretdb: [ferret?.process.child.pid] };
    const pidsOf = (g: Record<string, (number | undefined)[]>) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v.filter((p): p is number => p !== undefined)]));
    const cpuBefore = readCpu(pidsOf(cpuGroups));
    const began = Date.now();
    // The CLI under --json keeps stderr empty for scripts, so the bench says how far the campaign got itself.
    const progress = setInterval(() => say(`${Math.round((Date.now() - began) / 1000)} s: ${carrierProgress(carrier, indexOf)}`), 60_000);
    const cli = await runCli(['campaign', 'start', '--business', acme.id, '--file', csv, '--categories', 'order_updates,offers', '--plan', plan, '--wait', 'ended', '--poll', '2000', '--json'], {
      ...process.env,
      OPTINFLOW_API_URL: apiUrl,
      OPTINFLOW_API_KEY: DEV_API_KEY,
    });
    const elapsedMs = Date.now() - began;
    const cpuUsed = cpuPer(cpuBefore, readCpu(pidsOf(cpuGroups)), 1, 1);
    clearInterval(progress);
    responder.stop();
    if (cli.code !== 0) throw new Error(`the CLI exited with ${cli.code}: ${cli.stdout}`);
    const { start, campaign } = JSON.parse(cli.stdout);

    const perContact = new Map<string, number>();
    for (const m of carrier.messages({ channel: 'sms', direction: 'outbound-api' })) perContact.set(m.contact, (perContact.get(m.contact) ?? 0) + 1);
    const duplicates = [...perContact.values()].filter((n) => n > 1).length;
    const requestTimes = carrier.messages({ channel: 'sms', direction: 'outbound-api' }).filter((m) => indexOf.has(m.contact)).map((m) => Date.parse(m.createdAt));
    const figures = {
      rows,
      accepted: start.rows.accepted,
      skipped: start.rows.skipped,
      totalSeconds: Math.round(elapsedMs / 100) / 10,
      startedPerSecond: campaign.startedPerSecond,
      startWindowSeconds: campaign.firstStartedAt && campaign.lastStartedAt ? (Date.parse(campaign.lastStartedAt) - Date.parse(campaign.firstStartedAt)) / 1000 : 0,
      outcomes: campaign.counts,
      optInRate: campaign.optInRate,
      requestsSent: perContact.size,
      contactsWithDuplicateRequests: duplicates,
      busiestSecondOfRequests: busiestWindow(requestTimes, 1000),
      responder: responder.stats(),
      cpuSeconds: Object.fromEntries([...cpuUsed].map(([k, v]) => [k, Math.round(v * 10) / 10])),
      peakRss: { worker: mb(peakRssKb(worker.child.pid)), api: mb(peakRssKb(api.child.pid)), temporal: mb(peakRssKb(temporal?.child.pid)), ferretdb: mb(peakRssKb(ferret?.process.child.pid)), bench: mb(peakRssKb(process.pid)) },
    };
    process.stdout.write(
      [
        `campaign ${start.campaignId}: ${rows} rows through the CLI in ${figures.totalSeconds} s (until every journey ended)`,
        `  accepted ${figures.accepted}, skipped ${figures.skipped}`,
        `  journeys started/s ${figures.startedPerSecond} (all started within ${figures.startWindowSeconds} s; business rate ${rate}/s)`,
        `  outcomes: confirmed ${campaign.counts.confirmed}, declined ${campaign.counts.declined}, expired ${campaign.counts.expired}, opted out ${campaign.counts.opted_out}, cancelled ${campaign.counts.cancelled}, active ${campaign.counts.active}, pending ${campaign.counts.pending}; opt-in rate ${(campaign.optInRate * 100).toFixed(1)}%`,
        `  requests sent ${figures.requestsSent}; contacts with more than one request: ${duplicates} (must be 0)`,
        `  busiest second at the carrier: ${figures.busiestSecondOfRequests} requests (business rate ${rate}/s; a journey sends its request a little after its start, so some jitter)`,
        `  CPU seconds over the run: ${[...cpuUsed].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; ${([...cpuUsed.values()].reduce((a, b) => a + b, 0) / (elapsedMs / 1000)).toFixed(2)} of the cores busy on average`,
        `  peak RSS: worker ${figures.peakRss.worker}, API ${figures.peakRss.api}, Temporal ${figures.peakRss.temporal}, FerretDB ${figures.peakRss.ferretdb}, bench+carrier ${figures.peakRss.bench}`,
        '',
        JSON.stringify(figures),
        '',
      ].join('\n'),
    );
    if (duplicates > 0) process.exitCode = 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (!process.env.BENCH_KEEP) rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
