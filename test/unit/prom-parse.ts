/** A strict Prometheus text-format parser for the tests (not a test file itself). */
import { strict as assert } from 'node:assert';

/**
 * A strict parser of the Prometheus text format 0.0.4: every line is a HELP, a TYPE or a sample;
 * each sample belongs to a family declared by TYPE before it (with _bucket/_sum/_count for
 * histograms); names and labels are valid; label values are properly escaped; values are numbers;
 * no series appears twice.
 */
export function parseExposition(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seen = new Set<string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue; // the format ignores empty lines (prom-client separates families with one)
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      assert.ok(!helps.has(m[1]), `HELP twice, ${where}`);
      assert.ok(!/\\[^\\n]/.test(m[2].replace(/\\\\/g, '')), `bad escape in HELP, ${where}`);
      helps.add(m[1]);
      continue;
    }
    if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      assert.ok(!types.has(m[1]), `TYPE twice, ${where}`);
      types.set(m[1], m[2]);
      continue;
    }
    assert.ok(!line.startsWith('#'), `unknown comment, ${where}`);
    m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    assert.ok(m, `not a sample, ${where}`);
    const [, name, labelText, valueText] = m;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `sample before its TYPE, ${where}`);
    if (family !== name) assert.equal(types.get(family), 'histogram', where);
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      const re = new RegExp(`(${'[a-zA-Z_][a-zA-Z0-9_]*'})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"(,|$)`, 'y');
      let pos = 0;
      while (pos < labelText.length) {
        re.lastIndex = pos;
        const lm = re.exec(labelText);
        assert.ok(lm, `bad labels at ${pos}, ${where}`);
        assert.ok(!(lm[1] in labels), `label twice, ${where}`);
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        pos = re.lastIndex;
      }
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    assert.ok(valueText === 'NaN' || !Number.isNaN(value), `bad value, ${where}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    assert.ok(!seen.has(key), `series twice, ${where}`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}
