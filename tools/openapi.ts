/**
 * The OpenAPI document the API serves at /openapi.json (openapi-document.ts), and the client's types generated from
 * it by openapi-typescript, committed under client/ so that a change of the API shows as a change of these files.
 *
 *   npm run client:generate   write client/openapi.json and client/src/schema.d.ts
 *   npm run client:check      fail when either differs from what the server generates now (lint and CI)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from './openapi-document';

const root = path.resolve(__dirname, '..');
const DOCUMENT_FILE = path.join(root, 'client', 'openapi.json');
const TYPES_FILE = path.join(root, 'client', 'src', 'schema.d.ts');

/** The committed forms: the document as indented JSON, and openapi-typescript's types of it. */
async function generated(): Promise<{ document: string; types: string }> {
  const doc = await openApiDocument();
  const header =
    "/**\n * Generated from the API's /openapi.json by openapi-typescript (npm run client:generate). Do not edit:\n" +
    ' * `npm run client:check` fails when this file differs from what the server generates.\n */\n\n';
  const types = header + astToString(await openapiTS(doc as never));
  return { document: `${JSON.stringify(doc, null, 2)}\n`, types };
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const { document, types } = await generated();
  const files: [string, string][] = [
    [DOCUMENT_FILE, document],
    [TYPES_FILE, types],
  ];
  if (!check) {
    for (const [file, text] of files) writeFileSync(file, text);
    console.log(`wrote ${files.map(([f]) => path.relative(root, f)).join(' and ')}`);
    return 0;
  }
  const stale = files.filter(([file, text]) => {
    try {
      return readFileSync(file, 'utf8') !== text;
    } catch {
      return true;
    }
  });
  for (const [file] of stale) {
    console.error(`${path.relative(root, file)} differs from what the server generates: run npm run client:generate`);
  }
  if (stale.length === 0)
    console.log(`${files.map(([f]) => path.relative(root, f)).join(' and ')}: as the server generates them`);
  return stale.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
