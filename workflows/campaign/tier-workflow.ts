import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  grantNewContactsUpdate,
  releaseNewContactsUpdate,
  WHATSAPP_TIER_WINDOW_MS,
  whatsappTierUsageQuery,
  type TierGrant,
  type TierGrantRequest,
  type TierRelease,
  type TierUsage,
  type WhatsappTierInput,
  type WhatsappTierState,
} from './tier-contract';

const BUCKETS_PER_WINDOW = 1440;
const MAX_RECENT_REQUESTS = 2000;

/**
 * The rolling-window budget of new WhatsApp contacts for one business (see tier-contract.ts). Grants
 * are counted in 1,440 buckets per window (a minute each for 24 hours) and expire a bucket late, never
 * early. A request for more than is left gets what is left and the instant more frees up. The workflow
 * ends when nothing granted is left in the window and no request came for two windows (a campaign
 * told to come back when grants expire finds it still there); the next request starts it again.
 */
export async function whatsappTierWorkflow(input: WhatsappTierInput): Promise<TierUsage> {
  const windowMs = input.windowMs ?? WHATSAPP_TIER_WINDOW_MS;
  const bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS_PER_WINDOW));
  const s: WhatsappTierState = input.carried ?? { buckets: [], recent: [], lastRequestAt: Date.now() };
  let changed = false;

  const expiresAt = (bucketAt: number) => bucketAt + bucketMs + windowMs;
  const inWindow = (now: number) => s.buckets.filter((b) => b.n > 0 && expiresAt(b.at) > now);
  const prune = (now: number) => {
    s.buckets = inWindow(now);
  };
  const used = () => s.buckets.reduce((sum, b) => sum + b.n, 0);
  // Read-only: it also answers the query, which must not change state.
  const usage = (): TierUsage => {
    const live = inWindow(Date.now());
    return { businessId: input.businessId, windowMs, used: live.reduce((sum, b) => sum + b.n, 0), limit: s.lastLimit, nextFreeAt: live.length ? expiresAt(live[0].at) : undefined };
  };

  setHandler(whatsappTierUsageQuery, usage);
  setHandler(
    grantNewContactsUpdate,
    (req: TierGrantRequest): TierGrant => {
      const now = Date.now();
      prune(now);
      s.lastLimit = req.limit;
      s.lastRequestAt = now;
      changed = true;
      const answer = (granted: number): TierGrant => ({
        granted,
        used: used(),
        limit: req.limit,
        ...(granted < req.wanted ? { nextFreeAt: s.buckets.length ? expiresAt(s.buckets[0].at) : now + bucketMs } : {}),
      });
      const seen = s.recent.find((r) => r.requestId === req.requestId);
      if (seen) return answer(seen.granted);
      const granted = Math.max(0, Math.min(req.wanted, req.limit - used()));
      const bucketAt = Math.floor(now / bucketMs) * bucketMs;
      if (granted > 0) {
        const last = s.buckets[s.buckets.length - 1];
        if (last?.at === bucketAt) last.n += granted;
        else s.buckets.push({ at: bucketAt, n: granted });
      }
      s.recent.push({ requestId: req.requestId, bucketAt, granted, released: false });
      if (s.recent.length > MAX_RECENT_REQUESTS) s.recent.splice(0, s.recent.length - MAX_RECENT_REQUESTS);
      return answer(granted);
    },
    {
      validator: (req: TierGrantRequest) => {
        if (!req?.requestId) throw new Error('requestId is required');
        if (!Number.isInteger(req.wanted) || req.wanted < 0) throw new Error(`wanted must be a whole number >= 0, got ${req.wanted}`);
        if (!Number.isInteger(req.limit) || req.limit < 1) throw new Error(`limit must be a whole number >= 1, got ${req.limit}`);
      },
    },
  );
  setHandler(
    releaseNewContactsUpdate,
    (req: TierRelease): TierUsage => {
      const entry = s.recent.find((r) => r.requestId === req.requestId);
      // An unknown request is one so old its grants have expired anyway.
      if (entry && !entry.released) {
        entry.released = true;
        const bucket = s.buckets.find((b) => b.at === entry.bucketAt);
        if (bucket) bucket.n = Math.max(0, bucket.n - Math.min(req.unused, entry.granted));
        changed = true;
      }
      return usage();
    },
    {
      validator: (req: TierRelease) => {
        if (!req?.requestId) throw new Error('requestId is required');
        if (!Number.isInteger(req.unused) || req.unused < 0) throw new Error(`unused must be a whole number >= 0, got ${req.unused}`);
      },
    },
  );

  for (;;) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof whatsappTierWorkflow>({ businessId: input.businessId, windowMs: input.windowMs, carried: s });
    }
    const now = Date.now();
    prune(now);
    const idleUntil = s.lastRequestAt + 2 * windowMs;
    if (s.buckets.length === 0 && now >= idleUntil) {
      await condition(allHandlersFinished);
      // A request that came in meanwhile keeps the budget alive: its grant must not be forgotten.
      if (s.buckets.length === 0 && Date.now() >= s.lastRequestAt + 2 * windowMs) return usage();
      continue;
    }
    const wakeAt = s.buckets.length ? expiresAt(s.buckets[0].at) : idleUntil;
    changed = false;
    await condition(() => changed, Math.max(1, wakeAt - now));
  }
}
