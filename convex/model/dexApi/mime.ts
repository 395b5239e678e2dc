// Mail on the wire for the Gmail adapter: the RFC 5322 message Gmail's `messages.send` takes
// (base64url), and the text, HTML and headers out of a `messages.get` payload. Pure (WebCrypto
// and TextEncoder only, no Node Buffer: it runs in Convex's runtime).

export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64url(text: string): string {
  return base64Utf8(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeBase64url(data: string): string {
  const b64 = data.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${base64Utf8(value)}?=`;
}

/** Base64 body lines of 76 characters (RFC 2045 6.8). */
function bodyLines(text: string): string {
  return (base64Utf8(text).match(/.{1,76}/g) ?? []).join("\r\n");
}

export interface OutgoingMail {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
  inReplyTo?: string;
  /** For the Date header and the boundary; the caller passes its clock and randomness. */
  date: Date;
  boundary: string;
}

/**
 * The message as Gmail's `raw`: base64url of RFC 5322 text. Addresses were validated (no CR/LF),
 * and the subject is one line, so no header can be injected; bodies are base64 so any text goes.
 */
export function rawMessage(m: OutgoingMail): string {
  const headers = [
    `From: ${m.from}`,
    `To: ${m.to.join(", ")}`,
    ...(m.cc && m.cc.length ? [`Cc: ${m.cc.join(", ")}`] : []),
    ...(m.bcc && m.bcc.length ? [`Bcc: ${m.bcc.join(", ")}`] : []),
    ...(m.replyTo ? [`Reply-To: ${m.replyTo}`] : []),
    ...(m.inReplyTo ? [`In-Reply-To: ${m.inReplyTo}`, `References: ${m.inReplyTo}`] : []),
    `Subject: ${headerValue(m.subject)}`,
    `Date: ${m.date.toUTCString()}`,
    "MIME-Version: 1.0",
  ];
  let body: string[];
  if (m.html === undefined) {
    body = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", bodyLines(m.text)];
  } else {
    body = [
      `Content-Type: multipart/alternative; boundary="${m.boundary}"`,
      "",
      `--${m.boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: base64",
      "",
      bodyLines(m.text),
      `--${m.boundary}`,
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: base64",
      "",
      bodyLines(m.html),
      `--${m.boundary}--`,
    ];
  }
  return base64url([...headers, ...body].join("\r\n"));
}

interface GmailPart {
  mimeType?: string;
  headers?: { name?: string; value?: string }[];
  body?: { data?: string };
  parts?: GmailPart[];
}

/** Headers by lower-case name. */
export function headersOf(payload: GmailPart | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of payload?.headers ?? []) if (h.name) out[h.name.toLowerCase()] = h.value ?? "";
  return out;
}

/** The first text/plain and text/html bodies of a `format=full` payload, parts searched depth first. */
export function bodiesOf(payload: GmailPart | undefined): { text: string; html: string | null } {
  let text: string | null = null;
  let html: string | null = null;
  const walk = (part: GmailPart | undefined) => {
    if (!part) return;
    const type = (part.mimeType ?? "").toLowerCase();
    if (part.body?.data) {
      if (type.startsWith("text/plain") && text === null) text = decodeBase64url(part.body.data);
      else if (type.startsWith("text/html") && html === null) html = decodeBase64url(part.body.data);
    }
    for (const p of part.parts ?? []) walk(p);
  };
  walk(payload);
  return { text: text ?? (html ?? "").replace(/<[^>]+>/g, ""), html };
}
