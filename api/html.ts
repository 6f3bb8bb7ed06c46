export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A plain, accessible page that works without JavaScript. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.5}
h1{font-size:1.4rem}fieldset{border:1px solid #ccd;border-radius:8px;padding:1rem;margin:1rem 0}label{display:block;margin:.4rem 0}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #888;margin-right:.6rem;cursor:pointer}
button.primary{background:#128c7e;color:#fff;border-color:#128c7e}.muted{color:#5a6270;font-size:.9rem}</style></head>
<body>${body}</body></html>`;
}
