/**
 * Runs inside the stap lane's guest (scripts/stap-lane.sh boot): every traced run listed in
 * JOB/runs.json goes through the stap backend (record() from dist/, with USTACK_STAP_MODULES
 * naming the modules compiled on the host), and each result is written to JOB/captures/NAME.json
 * for test/stap/stap-e2e.test.ts to compare on the host. Plain JavaScript: no ts-jest in the guest.
 */
const fs = require('node:fs');
const path = require('node:path');

const job = path.resolve(process.argv[2]);
const root = path.resolve(__dirname, '..', '..', '..');
const { record } = require(path.join(root, 'dist', 'record.js'));

async function main() {
  const runs = JSON.parse(fs.readFileSync(path.join(job, 'runs.json'), 'utf8'));
  fs.mkdirSync(path.join(job, 'captures'), { recursive: true });
  for (const run of runs) {
    const started = Date.now();
    let out;
    try {
      const result = await record(run.argv, { ...run.options, backend: 'stap', timeout: 120000 });
      out = { ok: true, capture: result.capture, stdout: result.stdout, stderr: result.stderr };
    } catch (err) {
      out = { ok: false, error: { name: err.name, code: err.code ?? null, message: String(err.message) } };
    }
    fs.writeFileSync(path.join(job, 'captures', `${run.name}.json`), JSON.stringify(out));
    console.log(`run ${run.name}: ${out.ok ? `${out.capture.hits.length} hits` : `error ${out.error.message}`} (${Date.now() - started} ms)`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
