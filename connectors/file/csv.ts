/**
 * A small RFC 4180 line parser for the file source's `csv` format.
 *
 * - Fields are separated by commas; a field that starts with `"` is quoted: it may contain commas,
 *   and `""` inside it stands for one `"`. After the closing quote only a comma or the end of the
 *   line may follow.
 * - A quote inside an unquoted field is kept as it is (lenient, as most readers are).
 * - Unquoted fields that look like numbers (`/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/`, finite) become
 *   numbers; quoted fields always stay strings (quoting is how a file says "this is text", e.g.
 *   `"01234"`). Fields are not trimmed.
 * - Not supported: quoted fields spanning several lines (the file is read line by line); such a row
 *   has an unterminated quote and is reported as invalid, and so are its continuation lines if they
 *   do not parse.
 */

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** The value of an unquoted field: a number when it looks like one, else the string. */
export function csvValue(s: string): string | number {
  const c = s.charCodeAt(0);
  // Fast reject: numbers start with a digit or '-'.
  if (!((c >= 48 && c <= 57) || c === 45)) return s;
  if (!NUMBER.test(s)) return s;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/**
 * Splits one CSV line into `out` (cleared first). With `convert`, unquoted numeric fields become
 * numbers. Returns null on success, or a short description of what is malformed.
 */
export function parseCsvLine(line: string, out: unknown[], convert: boolean): string | null {
  out.length = 0;
  const n = line.length;
  let i = 0;
  for (;;) {
    if (i < n && line.charCodeAt(i) === 34 /* " */) {
      // Quoted field.
      let value = '';
      let from = i + 1;
      let j = from;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q === -1) return `unterminated quoted field at column ${out.length + 1}`;
        if (line.charCodeAt(q + 1) === 34) { value += line.slice(from, q + 1); j = from = q + 2; continue; }
        value += line.slice(from, q);
        i = q + 1;
        break;
      }
      out.push(value);
      if (i === n) return null;
      if (line.charCodeAt(i) !== 44 /* , */) return `unexpected character after the closing quote at column ${out.length}`;
      i++;
    } else {
      const c = line.indexOf(',', i);
      const raw = c === -1 ? line.slice(i) : line.slice(i, c);
      out.push(convert ? csvValue(raw) : raw);
      if (c === -1) return null;
      i = c + 1;
    }
  }
}
