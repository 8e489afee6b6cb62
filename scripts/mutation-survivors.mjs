#!/usr/bin/env node
// Lists what a mutation run left alive, per file, from Stryker's JSON report:
//   node scripts/mutation-survivors.mjs [reports/mutation/mutation.json] [file-substring]
// One line per survivor (file:line:column mutator: replacement) and a score line per file, so a
// test writer sees what no test notices without opening the HTML report.
import { readFileSync } from 'node:fs';

const [reportPath = 'reports/mutation/mutation.json', only = ''] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

for (const [file, { mutants }] of Object.entries(report.files).sort()) {
  if (!file.includes(only)) continue;
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const alive = mutants.filter((m) => UNDETECTED.has(m.status));
  const total = detected + alive.length;
  const score = total === 0 ? 100 : (100 * detected) / total;
  console.log(`${file}: ${score.toFixed(1)}% (${detected}/${total}, ${alive.length} alive)`);
  for (const m of alive.sort((a, b) => a.location.start.line - b.location.start.line)) {
    const where = `${m.location.start.line}:${m.location.start.column}`;
    const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100);
    console.log(
      `  ${where} ${m.mutatorName} ${m.status === 'NoCoverage' ? '(no coverage) ' : ''}-> ${replacement}`,
    );
  }
}
