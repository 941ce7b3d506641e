// jamaica.js — map data drawn by the dashboard itself (no tiles, no network):
// an approximate coastline of Jamaica as [lng, lat] points, clockwise from
// Negril, and a few towns for orientation. Accurate to a few kilometres: enough
// to see where a call is, not to navigate.

export const BOUNDS = { west: -78.45, east: -76.12, south: 17.66, north: 18.6 };

export const COASTLINE = [
  [-78.368, 18.360], // Negril, north (Bloody Bay)
  [-78.372, 18.270], // Negril Point
  [-78.340, 18.228], // South Negril Point
  [-78.220, 18.200],
  [-78.135, 18.205], // Savanna-la-Mar
  [-78.040, 18.165], // Bluefields
  [-77.960, 18.105], // Scott's Cove
  [-77.855, 18.025], // Black River
  [-77.760, 17.885], // Treasure Beach
  [-77.660, 17.855], // Lovers' Leap
  [-77.555, 17.860], // Alligator Pond
  [-77.430, 17.850],
  [-77.360, 17.845], // Farquhar Beach
  [-77.230, 17.790],
  [-77.170, 17.720], // Portland Point
  [-77.130, 17.850], // Rocky Point
  [-77.040, 17.880], // Old Harbour Bay
  [-76.950, 17.910], // Hellshire
  [-76.880, 17.950], // Portmore
  [-76.845, 17.935], // Port Royal
  [-76.740, 17.955], // Harbour View
  [-76.640, 17.900], // Bull Bay
  [-76.560, 17.870], // Yallahs
  [-76.410, 17.880], // Morant Bay
  [-76.260, 17.885],
  [-76.185, 17.925], // Morant Point
  [-76.270, 18.040], // Manchioneal
  [-76.345, 18.110], // Long Bay
  [-76.450, 18.185], // Port Antonio
  [-76.580, 18.205], // Hope Bay
  [-76.660, 18.235], // Buff Bay
  [-76.775, 18.275], // Annotto Bay
  [-76.890, 18.370], // Port Maria
  [-76.955, 18.400], // Oracabessa
  [-77.100, 18.410], // Ocho Rios
  [-77.220, 18.440], // St. Ann's Bay
  [-77.330, 18.460], // Runaway Bay
  [-77.420, 18.470], // Discovery Bay
  [-77.560, 18.490], // Rio Bueno
  [-77.655, 18.495], // Falmouth
  [-77.800, 18.525], // Rose Hall
  [-77.920, 18.470], // Montego Bay
  [-78.030, 18.455], // Hopewell
  [-78.170, 18.450], // Lucea
  [-78.270, 18.400], // Green Island
];

export const TOWNS = [
  { name: 'Kingston', lng: -76.793, lat: 17.997 },
  { name: 'Spanish Town', lng: -76.957, lat: 17.991, anchor: 'end' },
  { name: 'Montego Bay', lng: -77.919, lat: 18.471 },
  { name: 'Mandeville', lng: -77.505, lat: 18.042 },
  { name: 'Ocho Rios', lng: -77.103, lat: 18.403 },
  { name: 'Port Antonio', lng: -76.451, lat: 18.176, anchor: 'end', dy: -8 },
  { name: 'Negril', lng: -78.348, lat: 18.268, dy: -8 },
];
