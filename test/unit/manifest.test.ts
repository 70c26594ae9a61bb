// The manifest and the code agree: every command contributed in package.json is registered in
// src/extension (COMMANDS in commands/commandIds.ts, registered by registerCommands.ts), and
// nothing is registered that the manifest does not contribute. Also checks the activation rules.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('package.json manifest vs src/extension', () => {
  const sources = walk(path.join(root, 'src/extension')).filter((f) => f.endsWith('.ts'));
  const text = sources.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const idsFile = fs.readFileSync(path.join(root, 'src/extension/commands/commandIds.ts'), 'utf8');
  const declared = new Map([...idsFile.matchAll(/^\s*(\w+): '(htlcMonitor\.[\w.]+)',$/gm)].map((m) => [m[1], m[2]]));
  const registeredKeys = [...text.matchAll(/reg\(COMMANDS\.(\w+)\s*,/g)].map((m) => m[1]);
  const literal = [...text.matchAll(/registerCommand\(\s*'([^']+)'/g)].map((m) => m[1]);
  const registered = [...registeredKeys.map((k) => declared.get(k) ?? `<unknown COMMANDS.${k}>`), ...literal].sort();
  const contributed: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();

  it('finds the registrations', () => {
    assert.ok(registered.length >= 7, `found ${registered.length}`);
  });

  it('every contributed command is registered', () => {
    const missing = contributed.filter((c) => !registered.includes(c));
    assert.deepEqual(missing, [], `contributed in package.json but never registered: ${missing.join(', ')}`);
  });

  it('every registered command is contributed', () => {
    const extra = registered.filter((c) => !contributed.includes(c));
    assert.deepEqual(extra, [], `registered but not in package.json: ${extra.join(', ')}`);
  });

  it('each command is registered once', () => {
    assert.equal(new Set(registered).size, registered.length, registered.join(', '));
  });

  it('activates on views, commands and its webview only: never * or onStartupFinished', () => {
    for (const e of pkg.activationEvents as string[]) assert.match(e, /^(onView|onCommand|onWebviewPanel):/);
  });

  it('menus, keybindings and welcome views only use contributed commands', () => {
    const ids = new Set(contributed);
    for (const items of Object.values(pkg.contributes.menus) as { command: string }[][]) for (const i of items) assert.ok(ids.has(i.command), i.command);
    for (const w of pkg.contributes.viewsWelcome as { contents: string }[]) for (const m of w.contents.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(ids.has(m[1]), m[1]);
  });

  it('the icons it references exist, and no webview keeps its context when hidden', () => {
    assert.ok(fs.existsSync(path.join(root, pkg.icon)), pkg.icon);
    for (const c of pkg.contributes.viewsContainers.activitybar) assert.ok(fs.existsSync(path.join(root, c.icon)), c.icon);
    assert.ok(!/retainContextWhenHidden/.test(text), 'no retainContextWhenHidden');
  });
});
