/**
 * WordCount, the "hello world" of stream processing, as in Flink's streaming WordCount example:
 * split lines into words, key by the word, and keep a running count per word.
 *
 *   npx rlink run examples/word-count.ts                                   # built-in text, printed
 *   npx rlink run examples/word-count.ts input=README.md                   # any text file
 *   npx rlink run examples/word-count.ts input=README.md output=out/words.jsonl
 *
 * Output records: `{ "word": "be", "count": 2 }`.
 *
 * Why a rolling `reduce` and not a window: lines of text carry no event time, and this is how
 * Flink's own streaming WordCount is written (`flatMap → keyBy(word) → sum(1)`). The keyed reduce
 * emits the updated count of a word every time the word is seen, so the output is a changelog:
 * `be 1`, `be 2`, … and the LAST record of each word is its final count (records of one word keep
 * their order, since one subtask owns each word). Were the lines timestamped, the natural variant
 * would be `.window(TumblingEventTimeWindows.of('1m')).aggregate({ count: count() })` to get one
 * count per word and minute.
 *
 * Reading text: rlink's `sources.file` reads JSON lines or CSV, so this file brings its own small
 * source of text lines (see `textLines` below): it also shows what the `Source` interface asks of
 * a connector. Without `input=` the job reads a few built-in lines with `sources.collection`.
 */
import { readFile } from 'node:fs/promises';
import { defineApp, sources, sinks, type Source } from 'rlink';

/** The opening of Hamlet's soliloquy, as in Flink's WordCountData. */
const LINES = [
  'To be, or not to be,--that is the question:--',
  'Whether \'tis nobler in the mind to suffer',
  'The slings and arrows of outrageous fortune',
  'Or to take arms against a sea of troubles,',
  'And by opposing end them?--To die,--to sleep,--',
  'No more; and by a sleep to say we end',
  'The heartache, and the thousand natural shocks',
  'That flesh is heir to,--\'tis a consummation',
  'Devoutly to be wish\'d. To die,--to sleep;--',
  'To sleep! perchance to dream:--ay, there\'s the rub;',
];

interface WordCount { word: string; count: number }

/** Lower-case words: runs of letters, digits and apostrophes ("'tis", "wish'd"). */
function tokenize(line: string): string[] {
  return line.toLowerCase().match(/[\p{L}\p{N}']+/gu)?.map((w) => w.replace(/^'+|'+$/g, '')).filter((w) => w !== '') ?? [];
}

/**
 * A bounded source of the lines of one text file, read by one subtask. Its checkpoint state is the
 * number of lines already emitted, so a restarted job continues where it stopped.
 */
function textLines(path: string): Source<string> {
  return {
    kind: 'text-file',
    bounded: true,
    maxParallelism: 1,
    describe: () => ({ kind: 'text-file', path }),
    createReader: () => {
      let lines: string[] = [];
      let next = 0;
      return {
        async open(restored?: unknown) {
          const text = await readFile(path, 'utf8');
          lines = text.split(/\r?\n/);
          if (lines.at(-1) === '') lines.pop(); // the file's final newline ends the last line
          const at = (restored as { next?: unknown } | undefined)?.next;
          if (typeof at === 'number') next = at;
          return [path];
        },
        poll(max: number) {
          if (next >= lines.length) return { kind: 'end' as const };
          const values = lines.slice(next, next + Math.max(1, max));
          next += values.length;
          return { kind: 'records' as const, split: path, values, splitFinished: next >= lines.length };
        },
        snapshot: () => ({ next }),
        close() {},
      };
    },
  };
}

export default defineApp({
  name: 'word-count',
  build(env, props) {
    const text = props.has('input')
      ? env.fromSource(textLines(props.get('input')), { parallelism: 1, name: 'Source: text file' })
      : env.fromSource(sources.collection(LINES), { parallelism: 1, name: 'Source: built-in lines' });

    const counts = text
      .flatMap((line: string) => tokenize(line).map((word): WordCount => ({ word, count: 1 })), { name: 'Tokenizer' })
      .keyBy('word')
      .reduce((a: WordCount, b: WordCount) => ({ word: a.word, count: a.count + b.count }), { parallelism: 2, name: 'Count' })
      .uid('word-counts');

    // One output file (or one terminal) for the whole job: the sink runs as one subtask.
    counts.sinkTo(props.has('output') ? sinks.file({ path: props.get('output') }) : sinks.print(), { parallelism: 1 });
  },
});
