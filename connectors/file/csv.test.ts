import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvValue, parseCsvLine } from './csv';

const parse = (l: string, convert = true): unknown[] | string => {
  const out: unknown[] = [];
  const err = parseCsvLine(l, out, convert);
  return err ?? out;
};

describe('csv line parser', () => {
  it('splits fields, handles quotes, empty and trailing fields', () => {
    expect(parse('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(parse('')).toEqual(['']);
    expect(parse('a,,')).toEqual(['a', '', '']);
    expect(parse('"",x')).toEqual(['', 'x']);
    expect(parse('"a,b","c""d"""')).toEqual(['a,b', 'c"d"']);
    expect(parse('ab"c,d')).toEqual(['ab"c', 'd']);
    expect(parse(' 1 ,2')).toEqual([' 1 ', 2]);
    expect(parse('"abc')).toMatch(/unterminated/);
    expect(parse('"a"b,c')).toMatch(/after the closing quote/);
  });

  it('converts numbers only when they look like numbers', () => {
    expect(['1', '-2', '3.25', '1e3', '-1.5E-2', '007'].map(csvValue)).toEqual([1, -2, 3.25, 1000, -0.015, 7]);
    expect(['', '1.', '.5', '+1', '0x10', 'NaN', 'Infinity', '1e999', '1 ', '-'].map(csvValue))
      .toEqual(['', '1.', '.5', '+1', '0x10', 'NaN', 'Infinity', '1e999', '1 ', '-']);
  });

  it('round-trips any fields written with RFC 4180 quoting', () => {
    const field = fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\r\n]/g, ''));
    fc.assert(fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fields) => {
      const line = fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',');
      expect(parse(line, false)).toEqual(fields);
    }));
  });
});
