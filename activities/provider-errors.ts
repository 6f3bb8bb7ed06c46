type ProviderError = { kind: 'retry'; detail: string } | { kind: 'ambiguous'; detail: string } | { kind: 'rejected'; code?: number; detail: string };

/** Decides what a provider error means for delivery: safe to retry, maybe delivered, or refused. */
export function classifyProviderError(err: unknown): ProviderError {
  const e = err as { status?: number; code?: number | string; responseCode?: number; message?: string; errno?: string; retryable?: boolean };
  const detail = e?.message ?? String(err);
  // Meta answers a rate limit with 400 and its own code: refused before anything was sent.
  if (e?.retryable === true) return { kind: 'retry', detail };
  const netCode = typeof e?.code === 'string' ? e.code : e?.errno;
  if (netCode === 'ECONNREFUSED' || netCode === 'ENOTFOUND' || netCode === 'EAI_AGAIN' || /ECONNREFUSED/.test(detail)) return { kind: 'retry', detail };
  if (netCode === 'ECONNECTION' && /ECONNREFUSED|connect/i.test(detail)) return { kind: 'retry', detail };
  if (typeof e?.status === 'number') {
    if (e.status === 429) return { kind: 'retry', detail };
    if (e.status >= 500) return { kind: 'ambiguous', detail };
    if (e.status >= 400) return { kind: 'rejected', code: typeof e.code === 'number' ? e.code : undefined, detail };
  }
  if (typeof e?.responseCode === 'number') {
    if (e.responseCode >= 500) return { kind: 'rejected', code: e.responseCode, detail };
    if (e.responseCode >= 400) return { kind: 'retry', detail };
  }
  return { kind: 'ambiguous', detail };
}
