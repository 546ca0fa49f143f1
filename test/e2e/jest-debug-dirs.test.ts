/**
 * Inside Jest, the debug-info-missing error names the setting a Jest user has
 * (testEnvironmentOptions.ustack.debugDirs), not the CLI's --debug-dir: a real Jest run of a
 * project whose stripped program's debug file is not in its debug directory.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { JestProject } from './jest-project';

test('the no-debug-info error in Jest names testEnvironmentOptions.ustack.debugDirs', () => {
  const project = new JestProject('jest_debug_dirs', { chain: ['chain.c'] });
  try {
    execFileSync('strip', ['--strip-all', project.file('build/chain'), '-o', project.file('build/chain-stripped')]);
    fs.mkdirSync(project.file('dbg'));
    const r = project.run([], { DEBUGINFOD_URLS: '' });
    expect(r.output).toMatch(/Tests:\s+1 failed, 1 total/);
    expect(r.output).toContain('No debug information:');
    expect(r.output).toContain(`(testEnvironmentOptions.ustack.debugDirs or USTACK_DEBUG_DIRS, now ${project.file('dbg')})`);
    expect(r.output).not.toContain('--debug-dir');
  } finally {
    project.remove();
  }
});
