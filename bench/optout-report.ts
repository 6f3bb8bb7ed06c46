import type { CarrierMessage } from '../dev/carrier/types';
import { OPTOUT_BLOCK_WAIT_MS } from '../services/optouts';
import { percentile } from './helpers';
import type { BenchStack } from './stack';

/** One contact of bench:optout: its STOP and how the webhook answered it. */
export interface ContactRun {
  phone: string;
  contactId: string;
  stopAt?: number;
  ackAt?: number;
  ackStatus?: number;
  /** Whether the carrier sent the STOP over a new connection or a kept-alive one. */
  connection?: 'new' | 'reused';
}

/** What bench:optout measured from each STOP, in ms, and whether its two guarantees held. */
export interface OptOutLatencies {
  ack: number[];
  ledger: number[];
  ended: number[];
  confirmation: number[];
  afterOptOut: number;
  duplicateConfirmations: number;
}

/**
 * Reads the store and the carrier's outbound messages once the run is over and prints, from each
 * STOP: the webhook's answer, the ledger event, the journey's end, the one confirmation; and the
 * guarantees (no message after an opt-out, one confirmation, no STOP lost).
 */
export async function reportOptOuts(stack: BenchStack, contacts: ContactRun[], outbound: Map<string, CarrierMessage[]>, isConfirmation: (m: CarrierMessage) => boolean, header: string): Promise<OptOutLatencies> {
  const ids = contacts.map((c) => c.contactId);
  const [events, journeys, refusedSends] = await Promise.all([
    stack.store.consentEvents.find({ businessId: 'acme', contactId: { $in: ids }, type: 'opted_out' }).lean(),
    stack.store.journeys.find({ businessId: 'acme', contactId: { $in: ids } }).lean(),
    stack.store.outbox.countDocuments({ businessId: 'acme', status: 'refused' }),
  ]);
  const ledgerAt = new Map<string, number>();
  for (const e of events) {
    const at = Date.parse(String((e.proof as { recordedAt?: string }).recordedAt));
    ledgerAt.set(e.contactId, Math.max(ledgerAt.get(e.contactId) ?? 0, at));
  }
  const endedAt = new Map(journeys.filter((j) => j.status === 'opted_out' && j.endedAt).map((j) => [j.contactId, new Date(j.endedAt!).getTime()]));
  // The journey's workflow writes its state when it ends; the opt-out may have closed the record before (endedAt).
  const ownEndAt = new Map(journeys.filter((j) => j.status === 'opted_out' && j.state && j.updatedAt).map((j) => [j.contactId, new Date(j.updatedAt!).getTime()]));

  const ack: number[] = [];
  const ledger: number[] = [];
  const ended: number[] = [];
  const ownEnd: number[] = [];
  const confirmation: number[] = [];
  let afterOptOut = 0;
  let afterLateAck = 0;
  const examples: string[] = [];
  let remindersBeforeAck = 0;
  let duplicateConfirmations = 0;
  for (const c of contacts) {
    const msgs = outbound.get(c.phone) ?? [];
    if (c.ackAt && c.stopAt && c.ackStatus === 200) {
      ack.push(c.ackAt - c.stopAt);
      const after = msgs.filter((m) => Date.parse(m.createdAt) > c.ackAt! && !isConfirmation(m));
      afterOptOut += after.length;
      // An answer that took the whole block wait was given without the block (progress "pending").
      if (c.ackAt - c.stopAt >= OPTOUT_BLOCK_WAIT_MS) afterLateAck += after.length;
      for (const m of after.slice(0, 1)) if (examples.length < 3) examples.push(`${c.phone}: "${m.body.slice(0, 30)}" ${Date.parse(m.createdAt) - c.ackAt} ms after an answer that took ${c.ackAt - c.stopAt} ms`);
      remindersBeforeAck += msgs.filter((m) => m.body.startsWith('Reminder') && Date.parse(m.createdAt) >= c.stopAt! && Date.parse(m.createdAt) <= c.ackAt!).length;
    }
    const confirmations = msgs.filter(isConfirmation);
    if (confirmations.length > 1) duplicateConfirmations += confirmations.length - 1;
    if (!c.stopAt) continue;
    if (ledgerAt.has(c.contactId)) ledger.push(ledgerAt.get(c.contactId)! - c.stopAt);
    if (endedAt.has(c.contactId)) ended.push(endedAt.get(c.contactId)! - c.stopAt);
    if (ownEndAt.has(c.contactId)) ownEnd.push(ownEndAt.get(c.contactId)! - c.stopAt);
    if (confirmations[0]) confirmation.push(Date.parse(confirmations[0].createdAt) - c.stopAt);
  }

  const row = (name: string, xs: number[]) => {
    const f = (n: number) => (Number.isNaN(n) ? 'n/a' : String(Math.round(n))).padStart(8);
    return `${name.padEnd(24)}${f(percentile(xs, 50))}${f(percentile(xs, 99))}${f(percentile(xs, 100))}${String(xs.length).padStart(8)}`;
  };
  console.log('');
  console.log(header);
  console.log(`${'from the STOP to'.padEnd(24)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}${'n'.padStart(8)}`);
  console.log(row('webhook acknowledged', ack));
  // The API takes one new connection per turn of its event loop (docs/optout.md), so the two differ most under load.
  const ackOn = (kind: 'new' | 'reused') => contacts.filter((c) => c.connection === kind && c.ackStatus === 200).map((c) => c.ackAt! - c.stopAt!);
  console.log(row('  on a new connection', ackOn('new')));
  console.log(row('  on a kept-alive one', ackOn('reused')));
  // The same split for what follows the answer: a STOP the API took late is recorded and confirmed late too.
  const keptAlive = (at: (c: (typeof contacts)[number]) => number | undefined) =>
    contacts.flatMap((c) => {
      const t = c.connection === 'reused' && c.stopAt ? at(c) : undefined;
      return t === undefined ? [] : [t - c.stopAt!];
    });
  const firstConfirmationAt = (c: (typeof contacts)[number]) => {
    const m = (outbound.get(c.phone) ?? []).find(isConfirmation);
    return m ? Date.parse(m.createdAt) : undefined;
  };
  console.log(row('ledger written', ledger));
  console.log(row('  on a kept-alive one', keptAlive((c) => ledgerAt.get(c.contactId))));
  console.log(row('journey ended', ended));
  console.log(row("  its workflow's own end", ownEnd));
  console.log(row('confirmation sent', confirmation));
  console.log(row('  on a kept-alive one', keptAlive(firstConfirmationAt)));
  console.log(`messages sent after an opt-out (must be 0): ${afterOptOut}${afterOptOut ? `, ${afterLateAck} of them after answers that gave up waiting for the block (${OPTOUT_BLOCK_WAIT_MS} ms)` : ''}`);
  for (const e of examples) console.log(`  e.g. ${e}`);
  console.log(`second confirmations (must be 0): ${duplicateConfirmations}`);
  const unanswered = contacts.filter((c) => c.ackStatus !== 200);
  console.log(`webhook answers other than 200: ${unanswered.length}${unanswered.length ? ` (${unanswered.filter((c) => c.connection === 'new').length} of them on new connections)` : ''}; STOPs sent on new connections: ${contacts.filter((c) => c.connection === 'new').length}`);
  // A STOP with no ledger event after the wait for confirmations never reached the API or was dropped by it.
  const lost = contacts.filter((c) => c.stopAt && !ledgerAt.has(c.contactId));
  console.log(`STOPs with no ledger event (lost; must be 0): ${lost.length}${lost.length ? `, ${lost.filter((c) => c.ackStatus === 200).length} of them answered 200` : ''}`);
  console.log(`reminders the carrier got between a STOP and its acknowledgement: ${remindersBeforeAck}; sends the gate refused: ${refusedSends}`);

  return { ack, ledger, ended, confirmation, afterOptOut, duplicateConfirmations };
}
