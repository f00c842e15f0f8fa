/**
 * After `stryker run`: the mutation score overall and per file, from Stryker's JSON report, into
 * `reports/mutation-score.json` (kept in git; the HTML report is not). Score = detected / (detected + undetected)
 * with detected = killed + timeout and undetected = survived + no coverage, as Stryker counts it; mutants that
 * do not compile are not counted, and neither are the equivalent mutants listed in `reports/equivalent-mutants.md`
 * (a mutant no test can kill, as Stryker's ignored mutants are not counted). Exits 1 below the target, listing the
 * survivors, and names the listed equivalents that no longer match a surviving mutant.
 *
 *   npx tsx tools/mutation-score.ts [report.json]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TARGET = 90;
const root = path.resolve(__dirname, '..');
const reportFile = path.resolve(process.argv[2] ?? path.join(root, 'reports', 'mutation', 'mutation.json'));
const outFile = path.join(root, 'reports', 'mutation-score.json');
const equivalentFile = path.join(root, 'reports', 'equivalent-mutants.md');

interface Position {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: Position; end: Position };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}
/** One line of the list: "- `file` Mutator `original code` → `replacement`: why no test tells them apart". */
interface Equivalent {
  file: string;
  mutatorName: string;
  original: string;
  replacement: string;
  text: string;
  used: boolean;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
/** A code span: `code`, or `` code `` when the code holds a backtick (Prettier keeps the double form then only). */
const SPAN = '(?:`([^`]+)`|`` (.+?) ``)';
const ENTRY = new RegExp(`^- \`([^\`]+)\` (\\w+) ${SPAN} → ${SPAN}: \\S`);

function readEquivalents(): Equivalent[] {
  if (!existsSync(equivalentFile)) return [];
  return readFileSync(equivalentFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('- `'))
    .map((text) => {
      const m = ENTRY.exec(text);
      if (!m) throw new Error(`${path.relative(root, equivalentFile)}: cannot read the entry ${text}`);
      return {
        file: m[1]!,
        mutatorName: m[2]!,
        original: (m[3] ?? m[4])!,
        replacement: (m[5] ?? m[6])!,
        text,
        used: false,
      };
    });
}

/** The source text a mutant replaces (report positions are 1-based, lines and columns). */
function originalText(source: string, m: Mutant): string {
  const lines = source.split('\n');
  const { start, end } = m.location;
  if (start.line === end.line) return lines[start.line - 1]!.slice(start.column - 1, end.column - 1);
  const middle = lines.slice(start.line, end.line - 1);
  const first = lines[start.line - 1]!.slice(start.column - 1);
  return [first, ...middle, lines[end.line - 1]!.slice(0, end.column - 1)].join('\n');
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

function score(mutants: Mutant[]): { score: number; detected: number; undetected: Mutant[] } {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status));
  const valid = detected + undetected.length;
  // Two decimals, as Stryker prints them; a file without valid mutants counts as fully detected.
  return { score: valid === 0 ? 100 : Math.floor((detected / valid) * 10_000) / 100, detected, undetected };
}

const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
const equivalents = readEquivalents();
const files: Record<string, number> = {};
const survivors: string[] = [];
const counted: Mutant[] = [];
let equivalentCount = 0;
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const kept = mutants.filter((m) => {
    if (!UNDETECTED.has(m.status)) return true;
    const original = oneLine(originalText(source, m));
    const replacement = oneLine(m.replacement ?? '');
    const listed = equivalents.find(
      (e) =>
        e.file === file && e.mutatorName === m.mutatorName && e.original === original && e.replacement === replacement,
    );
    if (listed) listed.used = true;
    return !listed;
  });
  equivalentCount += mutants.length - kept.length;
  counted.push(...kept);
  const s = score(kept);
  files[file] = s.score;
  for (const m of s.undetected) {
    const where = `${file}:${m.location.start.line}:${m.location.start.column}`;
    survivors.push(`${where} ${m.mutatorName} ${m.status}: ${oneLine(originalText(source, m))} → ${m.replacement}`);
  }
}
const all = score(counted);
writeFileSync(
  outFile,
  JSON.stringify({ mutationScore: all.score, files, equivalentMutants: equivalentCount }, null, 2) + '\n',
);
console.log(
  `mutation score ${all.score} % (${all.detected} detected, ${all.undetected.length} not; ` +
    `${equivalentCount} equivalent not counted); per file:`,
);
for (const [file, s] of Object.entries(files)) console.log(`  ${s.toFixed(2).padStart(6)} %  ${file}`);
if (survivors.length > 0) console.log(`not detected:\n  ${survivors.join('\n  ')}`);
const stale = equivalents.filter((e) => !e.used);
if (stale.length > 0) {
  console.log(`listed as equivalent, but no undetected mutant matches (killed now, or the code moved):`);
  for (const e of stale) console.log(`  ${e.text}`);
}
console.log(`written to ${path.relative(root, outFile)}`);
process.exit(all.score >= TARGET ? 0 : 1);
