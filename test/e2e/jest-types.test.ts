/** The published types, checked by tsc on a project that imports jest-ustack like a user would. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { JestProject, ROOT } from './jest-project';

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let project: JestProject;
beforeAll(() => {
  project = new JestProject('jest_types');
  // the project needs the type packages a user has installed next to jest
  for (const dep of ['@jest', '@types', 'expect', 'jest-matcher-utils', 'pretty-format', 'jest-environment-node']) {
    spawnSync('ln', ['-s', path.join(ROOT, 'node_modules', dep), path.join(project.dir, 'node_modules', dep)]);
  }
});
afterAll(() => project.remove());

test.each(['tsconfig.json', 'tsconfig.types-jest.json', 'tsconfig.node16.json'])('%s type-checks (including @ts-expect-error lines)', (config) => {
  const r = spawnSync(process.execPath, [TSC, '-p', path.join(project.dir, config)], { cwd: project.dir, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
