// Entry point the VS Code extension host calls (extensionTestsPath): runs the suite with mocha.
// Bundled to out/test/integration/suite/index.js by test/vscode/build-tests.mjs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: process.env.HTLC_MOCHA_REPORTER || 'spec' });
  const grep = process.env.HTLC_ITEST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of fs.readdirSync(__dirname).sort()) if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => {
      console.log(`MOCHA DONE: ${failures} failures`);
      if (failures) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
  });
}
