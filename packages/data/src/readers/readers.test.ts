import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { firstInvalidOffset } from './decodeLine.js';
import { expandInputs, globToRegExp } from './expandInputs.js';
import { readDocuments } from './readDocuments.js';

let dir: string;

async function collect(options: Parameters<typeof readDocuments>[0]): Promise<Document[]> {
  const out: Document[] = [];
  for await (const d of readDocuments(options)) out.push(d);
  return out;
}

beforeAll(async () => {
  dir = await makeTempDir('deepline-readers-');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('readers', () => {
  it('JSONL: selects fields, and reports every corrupt line with file and line', async () => {
    const file = join(dir, 'mixed.jsonl');
    const lines = [
      Buffer.from('{"text":"first","id":"a","meta":{"label":"x"}}'),
      Buffer.from('{"text": broken'),
      Buffer.concat([Buffer.from('{"text":"bad '), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      Buffer.from('{"text": 42}'),
      Buffer.from(''),
      Buffer.from('{"other":"no text"}'),
      Buffer.from('[1,2]'),
      Buffer.from('{"text":"last","id":7,"meta":{"label":"y"}}\r'),
    ];
    await writeFile(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const report = new DataReport();
    const docs = await collect({
      inputs: [file],
      report,
      idField: 'id',
      metaFields: ['meta.label'],
    });
    expect(docs.map((d) => [d.id, d.text, d.meta?.['meta.label'], d.source?.line])).toEqual([
      ['a', 'first', 'x', 1],
      ['7', 'last', 'y', 8],
    ]);
    const json = report.toJSON();
    expect(json.corrupt.records.map((r) => [r.line, r.kind])).toEqual([
      [2, 'invalid-json'],
      [3, 'invalid-utf8'],
      [4, 'wrong-type'],
      [6, 'missing-field'],
      [7, 'wrong-type'],
    ]);
    expect(json.corrupt.records.every((r) => r.file === file)).toBe(true);
    expect(json.corrupt.records[1]!.message).toContain('byte 13');
    expect(json.input.records).toBe(7);
    expect(report.summary()).toMatch(/corrupt records: 5/);
  });

  it('caps the corrupt listing but never the count', async () => {
    const file = join(dir, 'many-bad.jsonl');
    await writeFile(file, '{oops}\n'.repeat(30));
    const report = new DataReport({ maxCorruptListed: 10 });
    expect(await collect({ inputs: [file], report })).toEqual([]);
    const json = report.toJSON();
    expect(json.corrupt.total).toBe(30);
    expect(json.corrupt.records).toHaveLength(10);
    expect(json.corrupt.unlisted).toBe(20);
  });

  it('gzip: detected by magic bytes; a truncated stream is reported, not thrown', async () => {
    const body = Array.from({ length: 500 }, (_, i) => JSON.stringify({ text: `row ${i}` })).join(
      '\n',
    );
    const gz = gzipSync(body);
    await writeFile(join(dir, 'ok.jsonl.gz'), gz);
    expect(await collect({ inputs: [join(dir, 'ok.jsonl.gz')] })).toHaveLength(500);
    await writeFile(join(dir, 'cut.jsonl.gz'), gz.subarray(0, gz.length - 40));
    const report = new DataReport();
    const docs = await collect({ inputs: [join(dir, 'cut.jsonl.gz')], report });
    expect(docs.length).toBeGreaterThan(0);
    expect(report.toJSON().corrupt.byKind['read-error']).toBe(1);
  });

  it('CSV: quoted multi-line fields, escaped quotes, wrong field counts reported', async () => {
    const file = join(dir, 'data.csv');
    await writeFile(
      file,
      'id,text\n1,"hello, ""world""\nsecond line"\n2,plain\n3,too,many\n4,"never closed\n',
    );
    const report = new DataReport();
    const docs = await collect({ inputs: [file], report, idField: 'id' });
    expect(docs.map((d) => [d.id, d.text])).toEqual([
      ['1', 'hello, "world"\nsecond line'],
      ['2', 'plain'],
    ]);
    expect(report.toJSON().corrupt.records.map((r) => [r.line, r.kind])).toEqual([
      [5, 'csv-syntax'],
      [6, 'csv-syntax'],
    ]);
  });

  it('text: files, paragraphs and lines; directories and globs', async () => {
    await mkdir(join(dir, 'txt', 'sub'), { recursive: true });
    await writeFile(join(dir, 'txt', 'a.txt'), 'Para one.\nstill one.\n\nPara two.\n');
    await writeFile(join(dir, 'txt', 'sub', 'b.txt'), 'Bee.\n');
    await writeFile(join(dir, 'txt', 'sub', 'c.md'), 'Sea.\n');
    await writeFile(join(dir, 'txt', 'bad.txt'), Buffer.from([0x41, 0x0a, 0xc3, 0x28]));
    const report = new DataReport();
    const files = await collect({ inputs: [join(dir, 'txt', '**', '*.txt')], report });
    expect(files.map((d) => d.text)).toEqual(['Para one.\nstill one.\n\nPara two.', 'Bee.']);
    expect(report.toJSON().corrupt.records).toMatchObject([{ line: 2, kind: 'invalid-utf8' }]);
    const paras = await collect({ inputs: [join(dir, 'txt', 'a.txt')], textUnit: 'paragraph' });
    expect(paras.map((d) => [d.text, d.source?.line])).toEqual([
      ['Para one.\nstill one.', 1],
      ['Para two.', 4],
    ]);
    const all = await expandInputs({ patterns: [join(dir, 'txt')] });
    expect(all).toHaveLength(4);
    const replaced = await collect({
      inputs: [join(dir, 'txt', 'bad.txt')],
      invalidUtf8: 'replace',
    });
    expect(replaced[0]!.text).toBe('A\n\ufffd(');
    await expect(collect({ inputs: [join(dir, 'nothing-*.txt')] })).rejects.toThrow(
      /no file matches/,
    );
    expect(globToRegExp('**/*.{json,jsonl}').test('a/b/c.jsonl')).toBe(true);
    expect(globToRegExp('*.txt').test('a/b.txt')).toBe(false);
  });

  it('Parquet (written by hyparquet-writer) and Arrow IPC file/stream (written by apache-arrow)', async () => {
    const texts = Array.from({ length: 2500 }, (_, i) => `parquet row ${i}`);
    const labels = texts.map((_, i) => (i % 2 ? 'odd' : 'even'));
    const pq = parquetWriteBuffer({
      columnData: [
        { name: 'text', data: texts },
        { name: 'label', data: labels },
      ],
      rowGroupSize: 1000,
    });
    await writeFile(join(dir, 'rows.parquet'), new Uint8Array(pq));
    const fromParquet = await collect({
      inputs: [join(dir, 'rows.parquet')],
      metaFields: ['label'],
    });
    expect(fromParquet.map((d) => d.text)).toEqual(texts);
    expect(fromParquet[3]!.meta).toEqual({ label: 'odd' });
    const table = tableFromArrays({ text: ['x', 'y', 'z'], n: Int32Array.from([1, 2, 3]) });
    await writeFile(join(dir, 'rows.arrow'), tableToIPC(table, 'file'));
    await writeFile(join(dir, 'rows.arrows'), tableToIPC(table, 'stream'));
    const arrow = await collect({
      inputs: [join(dir, 'rows.arrow'), join(dir, 'rows.arrows')],
      idField: 'n',
    });
    expect(arrow.map((d) => `${d.id}${d.text}`)).toEqual(['1x', '2y', '3z', '1x', '2y', '3z']);
    const report = new DataReport();
    await writeFile(join(dir, 'fake.parquet'), 'not parquet at all');
    expect(await collect({ inputs: [join(dir, 'fake.parquet')], report })).toEqual([]);
    expect(report.toJSON().corrupt.records[0]).toMatchObject({ kind: 'read-error', line: 1 });
  });

  it('finds the first invalid UTF-8 byte', () => {
    expect(firstInvalidOffset(Buffer.from('héllo'))).toBe(-1);
    expect(firstInvalidOffset(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
    expect(firstInvalidOffset(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1);
    expect(firstInvalidOffset(Buffer.from([0xc0, 0x80]))).toBe(0);
  });
});
