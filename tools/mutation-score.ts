/**
 * After `stryker run`: the mutation score overall and per file, from Stryker's JSON report, into
 * `reports/mutation-score.json` (kept in git; the HTML report is not). Score = detected / (detected + undetected)
 * with detected = killed + timeout and undetected = survived + no coverage, as Stryker counts it; mutants that
 * do not compile are not counted. Exits 1 below the target, listing the survivors.
 *
 *   npx tsx tools/mutation-score.ts [report.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TARGET = 90;
const root = path.resolve(__dirname, '..');
const reportFile = path.resolve(process.argv[2] ?? path.join(root, 'reports', 'mutation', 'mutation.json'));
const outFile = path.join(root, 'reports', 'mutation-score.json');

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function score(mutants: Mutant[]): { score: number; detected: number; undetected: Mutant[] } {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status));
  const valid = detected + undetected.length;
  // Two decimals, as Stryker prints them; a file without valid mutants counts as fully detected.
  return { score: valid === 0 ? 100 : Math.floor((detected / valid) * 10_000) / 100, detected, undetected };
}

const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
const files: Record<string, number> = {};
const survivors: string[] = [];
for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const s = score(mutants);
  files[file] = s.score;
  for (const m of s.undetected) {
    survivors.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${m.status}`);
  }
}
const all = score(Object.values(report.files).flatMap((f) => f.mutants));
writeFileSync(outFile, JSON.stringify({ mutationScore: all.score, files }, null, 2) + '\n');
console.log(`mutation score ${all.score} % (${all.detected} detected, ${all.undetected.length} not); per file:`);
for (const [file, s] of Object.entries(files)) console.log(`  ${s.toFixed(2).padStart(6)} %  ${file}`);
if (survivors.length > 0) console.log(`not detected:\n  ${survivors.join('\n  ')}`);
console.log(`written to ${path.relative(root, outFile)}`);
process.exit(all.score >= TARGET ? 0 : 1);
