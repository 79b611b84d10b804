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
// IPv6 candidates: runs of hex digits and colons holding at least two colons. A simple class
// run scans fast (a regex with look-behind per alternative cost ~5 % of the whole chain); the
// exact form is then checked in code.
const IPV6_CANDIDATE = /[0-9a-fA-F:]*:[0-9a-fA-F:]*:[0-9a-fA-F:]*/g;
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
        if (text.includes(':')) {
          text = text.replace(IPV6_CANDIDATE, (match: string, offset: number, whole: string) => {
            const before = whole.charCodeAt(offset - 1);
            const after = whole.charCodeAt(offset + match.length);
            const glued = isWordChar(before) || isWordChar(after);
            return !glued && isIpv6(match) ? ip : match;
          });
        }
      }
      if (phone !== false) text = text.replace(PHONE, phone);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
