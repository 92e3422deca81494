// The documentation is a map of the repository: README.md and docs/*.md name files and folders
// (`workflows/training-run.ts`, `stack/`) and link to each other. Files move; this keeps the
// map true: every repository path the pages write in backticks or as a link exists in the checkout,
// every docs/ page is reachable from the README, and the README stays short enough to read.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const README_MAX_LINES = 200;

// What counts as a repository path: a string with a `/` that starts with a top-level folder, or
// whose last part has one of these extensions. The folders are the checkout's own plus those a
// page may name before they exist here, so a page naming a folder that went away is still checked.
const EXTENSIONS = /\.(ts|js|cjs|mjs|json|ya?ml|md|sh|py|txt|toml|sum|mod|go|proto|in)$/;
const NAMED_FOLDERS = ['.ci', 'docs', 'infra', 'stack'];
// Made at run time or by npm ci, so not in a checkout: a page may name them.
const RUN_TIME = ['.data/', '.tools/', 'dist/', 'test-results/', 'node_modules/'];
// URLs, globs, placeholders (`<id>`, `{env}`), shell variables, elisions, options and assignments.
const NOT_A_PATH = /:\/\/|^[/~]|[<>{}*$…=@|?[\]]|^-/;

const topLevelFolders = new Set([
  ...NAMED_FOLDERS,
  ...readdirSync(root).filter((f) => f !== '.git' && statSync(path.join(root, f)).isDirectory()),
]);

/** A token from a code span or link, as a repository path to check, or undefined when it is none. */
function repoPath(token: string): string | undefined {
  const t = token
    .replace(/^[("'\u201c]+/, '')
    .replace(/[),;:."'\u201d]+$/, '')
    .replace(/:\d+(:\d+)?$/, '')
    .replace(/^\.\//, '');
  if (!t.includes('/') || NOT_A_PATH.test(t)) return undefined;
  if (RUN_TIME.some((dir) => t === dir.slice(0, -1) || t.startsWith(dir))) return undefined;
  const first = t.split('/')[0]!;
  return topLevelFolders.has(first) || EXTENSIONS.test(t) ? t : undefined;
}

interface Page {
  file: string; // relative to the repository root
  text: string; // with fenced code blocks blanked out (line numbers kept)
}

function readPage(file: string): Page {
  let fenced = false;
  const lines = readFileSync(path.join(root, file), 'utf8')
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    });
  return { file, text: lines.join('\n') };
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Repository paths written in inline code spans (which may wrap across lines). */
function codePaths(page: Page): { path: string; line: number }[] {
  const found: { path: string; line: number }[] = [];
  for (const m of page.text.matchAll(/(`+)([^`][\s\S]*?)\1(?!`)/g)) {
    for (const token of m[2]!.split(/\s+/)) {
      const p = repoPath(token);
      if (p) found.push({ path: p, line: lineOf(page.text, m.index) });
    }
  }
  return found;
}

/** Markdown link targets that are not URLs: a file (relative to the page) and an optional anchor. */
function links(page: Page): { target: string; anchor?: string; line: number }[] {
  const found: { target: string; anchor?: string; line: number }[] = [];
  for (const m of page.text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const href = m[1]!;
    if (/^[a-z][a-z+.-]*:/i.test(href)) continue; // http:, https:, mailto:
    const [file, anchor] = href.split('#') as [string, string | undefined];
    const target = file === '' ? page.file : path.posix.normalize(path.posix.join(path.posix.dirname(page.file), file));
    found.push({ target, anchor, line: lineOf(page.text, m.index) });
  }
  return found;
}

/** The anchors GitHub gives a page's headings. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of readPage(file).text.split('\n')) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const slug = h[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

const docPages = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`)
  .sort();
const pages = ['README.md', ...docPages].map(readPage);

describe('what counts as a repository path', () => {
  test.each([
    ['workflows/training-run.ts', 'workflows/training-run.ts'],
    ['stack/', 'stack/'],
    ['config/pipelines.yaml', 'config/pipelines.yaml'],
    ['(config/data-ready.ts;', 'config/data-ready.ts'],
    ['integrations/airflow', 'integrations/airflow'],
    ['.ci/run', '.ci/run'],
    ['shared/notes.md', 'shared/notes.md'], // not a folder here, but a file: checked, so it fails
  ])('%s is checked as %s', (token, expected) => expect(repoPath(token)).toBe(expected));

  test.each([
    'http://127.0.0.1:8591/token',
    'gs://ct-staging-pipelines/models/sns-engagement/jp-instagram/',
    'test/histories/*.json',
    '.tools/temporal-server/v<version>/',
    'training:{env}:{pipeline}',
    '.data/vertex-ai/tls/ca.pem',
    'dist/workflow-bundle.js',
    'test-results/ui/',
    'node_modules/.bin',
    '/usr/bin/chromium',
    '~/.config/temporalio/temporal.toml',
    '$PWD/.tools/bin/temporal',
    'GOBIN=$PWD/.tools/bin',
    'env/pipeline/segment',
    'temporalio/admin-tools:1.32.1',
    '@google-cloud/aiplatform',
    'projects/…/pipelineJobs/ID',
    'json|pretty',
    'failure-types.ts',
  ])('%s is not a repository path', (token) => expect(repoPath(token)).toBeUndefined());
});

test('every repository path README.md and docs/*.md name exists in the checkout', () => {
  const named = pages.flatMap((page) => codePaths(page).map((found) => ({ page: page.file, ...found })));
  expect(named.map((n) => n.path)).toContain('config/pipelines.yaml'); // the extraction finds what a page names
  const missing = named
    .filter((n) => !existsSync(path.join(root, n.path)))
    .map((n) => `${n.page}:${n.line}: \`${n.path}\``);
  expect(missing).toEqual([]);
});

test('every link between the pages reaches a file, and a heading when it names one', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const { target, anchor, line } of links(page)) {
      if (!existsSync(path.join(root, target))) broken.push(`${page.file}:${line}: ${target} does not exist`);
      else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor))
        broken.push(`${page.file}:${line}: ${target} has no heading #${anchor}`);
    }
  }
  expect(broken).toEqual([]);
});

test('every docs/ page is linked from the README', () => {
  const readme = pages.find((p) => p.file === 'README.md')!;
  const linked = new Set(links(readme).map((l) => l.target));
  expect(docPages.filter((p) => !linked.has(p))).toEqual([]);
});

test(`the README is at most ${README_MAX_LINES} lines`, () => {
  const text = readFileSync(path.join(root, 'README.md'), 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
});
