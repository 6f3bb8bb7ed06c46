import { escapeHtml } from '../../domain/escape';
import type { CarrierCall } from './call-types';
import { META_TIERS, type MetaNumberState } from './meta-types';
import type { CarrierEmail, CarrierMessage, Channel } from './types';


export function contactAnchor(contact: string): string {
  return `c-${contact.replace(/[^a-zA-Z0-9]/g, '-')}`;
}

interface ContactView {
  contact: string;
  messages: CarrierMessage[];
  calls: CarrierCall[];
  emails: CarrierEmail[];
  lastActivity: string;
}

export interface PageInput {
  messages: CarrierMessage[];
  calls: CarrierCall[];
  emails: CarrierEmail[];
  notice: string | null;
  inboundUrl: string | null;
  metaNumbers: MetaNumberState[];
  httpUrl: string;
  smtpPort: number;
}

const css = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2433}
header{background:#1d2433;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:18px;margin:0;flex:1}header a,header button{color:#fff}
main{max-width:980px;margin:0 auto;padding:16px}
section{background:#fff;border:1px solid #d9dde5;border-radius:8px;padding:14px 18px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 8px}h3{font-size:14px;margin:14px 0 6px;color:#555;text-transform:uppercase;letter-spacing:.04em}
.notice{background:#fff7d6;border-color:#e9d58a}.muted{color:#6b7280;font-size:13px}
.bubble{max-width:78%;padding:8px 12px;border-radius:10px;margin:6px 0;white-space:pre-wrap;word-wrap:break-word}
.out{background:#eef1f6}.in{background:#dcf8c6;margin-left:auto}
.badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:8px;background:#d9dde5;margin-right:4px}
.whatsapp{background:#25d366;color:#fff}.sms{background:#3b82f6;color:#fff}.bad{background:#dc2626;color:#fff}
form{display:inline}form.row{display:flex;gap:6px;flex-wrap:wrap;align-items:center;margin-top:8px}
input[type=text]{padding:6px 8px;border:1px solid #c3c8d2;border-radius:6px;min-width:14em}
button{padding:6px 12px;border:1px solid #8b93a3;border-radius:6px;background:#fff;cursor:pointer}
button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
.keypad{display:grid;grid-template-columns:repeat(3,48px);gap:6px;margin:8px 0}.keypad button{padding:10px 0}
ol.transcript{margin:6px 0;padding-left:22px}ol.transcript li{margin:2px 0}
.mail{border-top:1px solid #e5e7eb;padding-top:8px;margin-top:8px}.mail pre{white-space:pre-wrap;font:inherit;background:#fafafa;padding:8px;border-radius:6px}
`;

function channelBadge(channel: Channel): string {
  return `<span class="badge ${channel}">${channel === 'whatsapp' ? 'WhatsApp' : 'SMS'}</span>`;
}

function time(iso: string): string {
  return escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
}

function groupByContact(input: PageInput): ContactView[] {
  const contacts = new Map<string, ContactView>();
  const view = (contact: string, at: string): ContactView => {
    let entry = contacts.get(contact);
    if (!entry) {
      entry = { contact, messages: [], calls: [], emails: [], lastActivity: at };
      contacts.set(contact, entry);
    }
    if (at > entry.lastActivity) entry.lastActivity = at;
    return entry;
  };
  for (const m of input.messages) view(m.contact, m.updatedAt).messages.push(m);
  for (const c of input.calls) view(c.to, c.endedAt ?? c.createdAt).calls.push(c);
  for (const e of input.emails) for (const to of e.to) view(to, e.receivedAt).emails.push(e);
  return [...contacts.values()].sort((a, b) => b.lastActivity.localeCompare(a.lastActivity));
}

function renderMessage(m: CarrierMessage, anchor: string): string {
  const inbound = m.direction === 'inbound';
  const status = m.errorCode !== null ? `<span class="badge bad">${escapeHtml(m.status)} · ${escapeHtml(m.errorCode)}</span>` : `<span class="badge">${escapeHtml(m.status)}</span>`;
  const tapped = m.buttonText ? `<div class="muted">tapped button “${escapeHtml(m.buttonText)}” (payload ${escapeHtml(m.buttonPayload)})</div>` : '';
  const template = m.contentSid ? `<div class="muted">${m.provider === 'meta' ? 'Meta ' : ''}template ${escapeHtml(m.contentSid)}</div>` : '';
  const failure = m.errorMessage ? `<div class="muted">${escapeHtml(m.errorMessage)}</div>` : '';
  const webhook = inbound && m.webhook ? `<span class="muted">· our webhook answered ${escapeHtml(m.webhook.httpStatus || 'nothing')}</span>` : '';
  const buttons =
    !inbound && m.buttons.length && m.status !== 'failed'
      ? `<form class="row" method="post" action="/ui/inbound">
          <input type="hidden" name="from" value="${escapeHtml(m.to)}"><input type="hidden" name="to" value="${escapeHtml(m.from)}">
          <input type="hidden" name="channel" value="${m.channel}"><input type="hidden" name="anchor" value="${escapeHtml(anchor)}">
          ${m.buttons
            .map((b) => `<button name="button" value="${escapeHtml(JSON.stringify(b))}">${escapeHtml(b.text)}</button>`)
            .join('')}
        </form>`
      : '';
  return `<div class="bubble ${inbound ? 'in' : 'out'}">
    <div class="muted">${channelBadge(m.channel)}${inbound ? 'contact' : escapeHtml(m.from)} → ${inbound ? escapeHtml(m.to) : 'contact'} · ${time(m.createdAt)} ${status} ${webhook}</div>
    ${template}${escapeHtml(m.renderedText)}${tapped}${failure}${buttons}</div>`;
}

function renderCall(c: CarrierCall): string {
  const lines = c.transcript
    .map((t) => `<li><span class="badge">${escapeHtml(t.kind)}</span>${escapeHtml(t.text)}</li>`)
    .join('');
  const action = `/ui/calls/${encodeURIComponent(c.sid)}`;
  const controls = c.gather
    ? `<p><strong>The IVR is waiting for a key.</strong></p>
       <form method="post" action="${action}/digits"><div class="keypad">
       ${['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((d) => `<button name="digits" value="${d}">${d}</button>`).join('')}
       </div></form>
       <form class="row" method="post" action="${action}/timeout"><button>Let it time out (press nothing)</button></form>
       <form class="row" method="post" action="${action}/hangup"><button>Hang up</button></form>`
    : c.status === 'in-progress' || c.status === 'ringing' || c.status === 'queued'
      ? `<form class="row" method="post" action="${action}/hangup"><button>Hang up</button></form>`
      : '';
  return `<div class="mail"><div><strong>Call ${escapeHtml(c.sid)}</strong> from ${escapeHtml(c.from)} · ${time(c.createdAt)} <span class="badge${c.errorCode ? ' bad' : ''}">${escapeHtml(c.status)}</span></div>
    <ol class="transcript">${lines || '<li class="muted">nothing said yet</li>'}</ol>${controls}</div>`;
}

function oneClickTarget(e: CarrierEmail): string | null {
  if (!e.headers['list-unsubscribe-post']) return null;
  const match = /<(https?:[^>]+)>/i.exec(e.headers['list-unsubscribe'] ?? '');
  return match ? match[1] : null;
}

function renderEmail(e: CarrierEmail): string {
  const links = e.links.length
    ? `<ul>${e.links.map((l) => `<li><a href="${escapeHtml(l)}" target="_blank" rel="noopener">${escapeHtml(l)}</a></li>`).join('')}</ul>`
    : '';
  const unsubscribe = oneClickTarget(e)
    ? `<form class="row" method="post" action="/ui/emails/${encodeURIComponent(e.id)}/unsubscribe"><button>One-click unsubscribe (what a mail client does)</button></form>`
    : '';
  return `<div class="mail"><div><strong>${escapeHtml(e.subject || '(no subject)')}</strong></div>
    <div class="muted">from ${escapeHtml(e.from)} · ${time(e.receivedAt)}</div>
    <pre>${escapeHtml(e.text)}</pre>${links}${unsubscribe}</div>`;
}

function replyForm(view: ContactView, anchor: string): string {
  const last = [...view.messages].reverse()[0];
  const ourNumber = last?.sender ?? view.calls[view.calls.length - 1]?.from ?? '';
  const channel: Channel = last?.channel ?? 'sms';
  return `<form class="row" method="post" action="/ui/inbound">
    <input type="hidden" name="from" value="${escapeHtml(view.contact)}"><input type="hidden" name="anchor" value="${escapeHtml(anchor)}">
    <label>to <input type="text" name="to" value="${escapeHtml(ourNumber)}" style="min-width:9em" required></label>
    <select name="channel"><option value="sms"${channel === 'sms' ? ' selected' : ''}>SMS</option><option value="whatsapp"${channel === 'whatsapp' ? ' selected' : ''}>WhatsApp</option></select>
    <input type="text" name="body" placeholder="Reply as ${escapeHtml(view.contact)}, e.g. YES or STOP" required>
    <button class="primary">Send</button></form>`;
}

/** What a WhatsApp user can do in the app's business profile: stop or resume that business's marketing messages. */
function marketingControls(view: ContactView): string {
  const numbers = [...new Set(view.messages.filter((m) => m.provider === 'meta').map((m) => m.sender))];
  return numbers
    .map(
      (n) => `<form class="row" method="post" action="/ui/meta/preferences">
    <input type="hidden" name="from" value="${escapeHtml(view.contact)}"><input type="hidden" name="to" value="${escapeHtml(n)}">
    <span class="muted">In WhatsApp, for ${escapeHtml(n)} (Meta):</span>
    <button name="value" value="stop">Stop marketing</button><button name="value" value="resume">Resume marketing</button></form>`,
    )
    .join('');
}

function renderMetaNumbers(numbers: MetaNumberState[]): string {
  if (!numbers.length) return '';
  const rows = numbers
    .map((n) => {
      const action = `/ui/meta/numbers/${encodeURIComponent(n.phoneNumberId)}`;
      const quality = (['GREEN', 'YELLOW', 'RED'] as const).map((q) => `<button name="quality" value="${q}"${q === n.quality ? ' disabled' : ''}>${q}</button>`).join('');
      const tiers = META_TIERS.map((t) => `<option value="${t}"${t === n.tier ? ' selected' : ''}>${t}</option>`).join('');
      return `<div><strong>${escapeHtml(n.displayNumber)}</strong> <span class="muted">phone-number id ${escapeHtml(n.phoneNumberId)} · quality ${escapeHtml(n.quality)} · ${escapeHtml(n.tier)}</span>
      <form class="row" method="post" action="${action}"><span class="muted">Quality rating:</span>${quality}</form>
      <form class="row" method="post" action="${action}"><span class="muted">Messaging limit:</span><select name="tier">${tiers}</select><button>Change tier</button></form></div>`;
    })
    .join('');
  return `<section id="meta-numbers"><h2>WhatsApp numbers on Meta's Cloud API</h2>
    <p class="muted">Changes are sent to our API as <code>phone_number_quality_update</code> webhooks signed with the app secret.</p>${rows}</section>`;
}

function renderContact(view: ContactView): string {
  const anchor = contactAnchor(view.contact);
  const isPhone = view.contact.startsWith('+');
  const parts = [`<h2>${escapeHtml(view.contact)}</h2>`];
  if (view.messages.length) parts.push('<h3>Messages</h3>', ...view.messages.map((m) => renderMessage(m, anchor)));
  if (view.calls.length) parts.push('<h3>Calls</h3>', ...view.calls.map(renderCall));
  if (view.emails.length) parts.push('<h3>E-mails</h3>', ...view.emails.map(renderEmail));
  if (isPhone) parts.push(marketingControls(view), replyForm(view, anchor));
  return `<section id="${escapeHtml(anchor)}">${parts.join('\n')}</section>`;
}

export function renderPage(input: PageInput): string {
  const contacts = groupByContact(input);
  const notice = input.notice ? `<section class="notice">${escapeHtml(input.notice)}</section>` : '';
  const intro = `<section><h2>Write as a new contact</h2>
    <p class="muted">Messages are POSTed, signed like Twilio, to ${escapeHtml(input.inboundUrl ?? '(no inbound URL set)')}.</p>
    <form class="row" method="post" action="/ui/inbound">
      <input type="text" name="from" placeholder="contact, e.g. +4915112345678" required>
      <input type="text" name="to" placeholder="our number" required>
      <select name="channel"><option value="sms">SMS</option><option value="whatsapp">WhatsApp</option></select>
      <input type="text" name="body" placeholder="text" required><button class="primary">Send</button>
    </form></section>`;
  const body = contacts.length
    ? contacts.map(renderContact).join('\n')
    : '<section><p>Nothing yet. Start a journey and its SMS, WhatsApp messages, calls and e-mails show up here.</p></section>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Optinflow local carrier</title><style>${css}</style></head><body>
<header><h1>Optinflow local carrier</h1><span class="muted" style="color:#c9cfdb">Twilio API ${escapeHtml(input.httpUrl)} · SMTP port ${escapeHtml(input.smtpPort)}</span>
<a href="/">Refresh</a><form method="post" action="/ui/reset"><button style="background:transparent">Clear everything</button></form></header>
<main>${notice}${intro}${renderMetaNumbers(input.metaNumbers)}${body}</main></body></html>`;
}
