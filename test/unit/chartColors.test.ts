import { strict as assert } from 'node:assert';
import { CATEGORIES, categoryOf, DOWNSTREAM } from '../../src/core/reasons';
import { CATEGORY_COLOR_VAR, reasonStyles } from '../../src/webview/chartColors';

describe('webview chart colours: by category, reasons told apart within one', () => {
  const reasons = ['INSUFFICIENT_BALANCE', 'TEMPORARY_CHANNEL_FAILURE', 'FEE_INSUFFICIENT', 'HTLC_EXCEEDS_MAX', 'EXPIRY_TOO_SOON', 'UNKNOWN_NEXT_PEER', 'CHANNEL_DISABLED', DOWNSTREAM, 'INVALID_ONION_HMAC', 'SOMETHING_NEW'];

  it('every category has its own --vscode-charts-* colour', () => {
    const vars = CATEGORIES.map((c) => CATEGORY_COLOR_VAR[c]);
    assert.equal(new Set(vars).size, CATEGORIES.length);
    for (const v of vars) assert.match(v, /^--vscode-charts-[a-z]+$/);
  });

  it('a reason takes its category colour; no two reasons share colour and fill', () => {
    const styles = reasonStyles(reasons);
    for (const s of styles) assert.equal(s.colorVar, CATEGORY_COLOR_VAR[categoryOf(s.reason)]);
    assert.equal(new Set(styles.map((s) => `${s.colorVar}|${s.fill}`)).size, styles.length);
    const of = (r: string) => styles.find((s) => s.reason === r)!;
    assert.notEqual(of(DOWNSTREAM).colorVar, of('INVALID_ONION_HMAC').colorVar, 'downstream ≠ onion decode');
    assert.notEqual(of('FEE_INSUFFICIENT').colorVar, of('INSUFFICIENT_BALANCE').colorVar, 'fee ≠ liquidity');
    assert.equal(of('INSUFFICIENT_BALANCE').colorVar, of('TEMPORARY_CHANNEL_FAILURE').colorVar);
    assert.notEqual(of('INSUFFICIENT_BALANCE').fill, of('TEMPORARY_CHANNEL_FAILURE').fill);
  });

  it('stable order (category, then reason) whatever order the series come in', () => {
    const a = reasonStyles(reasons);
    const b = reasonStyles([...reasons].reverse());
    assert.deepEqual(b, a);
    const rank = a.map((s) => CATEGORIES.indexOf(s.category));
    assert.deepEqual(rank, [...rank].sort((x, y) => x - y));
    assert.equal(a[0].fill, 'solid');
  });
});
