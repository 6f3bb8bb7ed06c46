const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const XML_ENTITIES: Record<string, string> = { ...HTML_ENTITIES, "'": '&apos;' };

/** Text placed in HTML (element content or a quoted attribute); the pages, e-mails and the carrier page share it. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/** Text placed in XML (TwiML): `&apos;` because not every XML reader knows `&#39;` as a named entity. */
export function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}
