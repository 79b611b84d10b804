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
// Full and `::`-compressed IPv6 forms with at least two colons and some hex digits.
const IPV6 = /(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?(?![\w:])/gi;
// Phone numbers need separators between groups so that years, prices and ids are not hit.
const PHONE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-])/g;

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
      if (ip !== false) text = text.replace(IPV4, ip).replace(IPV6, ip);
      if (phone !== false) text = text.replace(PHONE, phone);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}
