import type { Document } from '../types.js';
import type { CleaningStage } from './stage.js';

export interface PiiOptions {
  /** Replacement for e-mail addresses (default '<EMAIL>'); false keeps them. */
  email?: string | false;
  /** Replacement for IPv4/IPv6 addresses (default '<IP>'); false keeps them. */
  ip?: string | false;
  /** Replacement for phone numbers (default '<PHONE>'); false keeps them. */
  phone?: string | false;
}

const EMAIL = /[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+[\p{L}]{2,}/gu;
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\d.])${OCTET}(?:\\.${OCTET}){3}(?![\\d.]*\\d)`, 'g');
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Full (8 groups) or `::`-compressed (at least 3 groups) IPv6 address. */
export function isIpv6(candidate: string): boolean {
  const halves = candidate.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (!groups.every((g) => HEX_GROUP.test(g))) return false;
  return halves.length === 2 ? groups.length >= 3 && groups.length <= 7 : groups.length === 8;
}
// Phone numbers need separators between groups so that years, prices and ids are not hit.
const PHONE =
  /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-])/g;

/** Replaces e-mail addresses, IP addresses and phone numbers with placeholders. */
export function piiStage(options: PiiOptions = {}): CleaningStage {
  const email = options.email ?? '<EMAIL>';
  const ip = options.ip ?? '<IP>';
  const phone = options.phone ?? '<PHONE>';
  return {
    name: 'pii',
    apply(doc: Document): Document {
      let text = doc.text;
      if (email !== false && text.includes('@')) text = text.replace(EMAIL, email);
      if (ip !== false) {
        text = text.replace(IPV4, ip);
        if (text.includes(':')) text = replaceIpv6(text, ip);
      }
      if (phone !== false) text = text.replace(PHONE, phone);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}

/**
 * Replaces IPv6 addresses: from each colon, the surrounding run of hex digits and colons is
 * the candidate (one linear scan; a regex for this backtracks on every hex letter of prose).
 */
function replaceIpv6(text: string, replacement: string): string {
  let out = '';
  let copied = 0;
  let at = text.indexOf(':');
  while (at !== -1) {
    let start = at;
    while (start > 0 && isHexOrColon(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isHexOrColon(text.charCodeAt(end))) end++;
    const candidate = text.slice(start, end);
    const glued = isWordChar(text.charCodeAt(start - 1)) || isWordChar(text.charCodeAt(end));
    if (start >= copied && !glued && isIpv6(candidate)) {
      out += text.slice(copied, start) + replacement;
      copied = end;
    }
    at = text.indexOf(':', end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function isHexOrColon(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
