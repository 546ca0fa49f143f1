// Inside the jest-ustack repository the example uses the package from `..` without installing:
// node_modules/jest-ustack becomes a symlink to the repository root (what `npm install` of the
// "file:.." devDependency would make too). Outside the repository, `npm install` does this.
const fs = require('node:fs');
const path = require('node:path');

const link = path.join(__dirname, '..', 'node_modules', 'jest-ustack');
const target = path.join('..', '..');
const pkg = path.resolve(__dirname, '..', '..', 'package.json');
if (!fs.existsSync(pkg) || JSON.parse(fs.readFileSync(pkg, 'utf8')).name !== 'jest-ustack') {
  console.error('link-jest-ustack: not inside the jest-ustack repository; run `npm install` instead.');
  process.exit(1);
}
let current = null;
try {
  current = fs.readlinkSync(link);
} catch {
  current = null;
}
if (current !== target) {
  fs.rmSync(link, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, 'dir');
}
if (!fs.existsSync(path.join(link, 'dist', 'index.js'))) {
  console.error('link-jest-ustack: jest-ustack is not built; run `npm run build` in the repository root first.');
  process.exit(1);
}
