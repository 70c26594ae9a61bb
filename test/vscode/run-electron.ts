// Runs the integration suite in VS Code desktop (Electron) through @vscode/test-electron, which
// downloads VS Code from update.code.visualstudio.com into .vscode-test/ — for machines that can
// reach it. Where that is blocked (this project's CI), test/vscode/run-code-server.sh runs the same
// suite in code-server's VS Code. Usage: npm run test:integration:electron
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const workspace = path.join(root, '.vscode-test', 'workspace');
  require('node:fs').mkdirSync(workspace, { recursive: true });
  await runTests({
    version: process.env.VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out/test/integration/suite/index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
}

main().catch((err) => {
  console.error('integration tests failed:', err);
  process.exit(1);
});
