/**
 * Geometry of the geo filters: `_geo` points and `_geojson` shapes against `_geoRadius`,
 * `_geoBoundingBox` and `_geoPolygon` regions.
 *
 * As milli (`index_filter.rs`): `_geoRadius` and `_geoBoundingBox` match a document whose `_geo`
 * point is inside (when `_geo` is filterable) or whose `_geojson` shape intersects the region
 * (when `_geojson` is filterable); `_geoPolygon` matches `_geojson` shapes only. Shapes are
 * compared on (lat, lng) as a plane, circles with the haversine distance (meters).
 */

/** A `[lat, lng]` pair. */
export type LatLng = readonly [number, number];

/** A `_geojson` value reduced to points, polylines and polygons (outer ring and holes). */
export interface Shapes {
  points: LatLng[];
  lines: LatLng[][];
  polygons: LatLng[][][];
}

/** Mean Earth radius in meters, as used by the haversine distance of Meilisearch's geo filters. */
const EARTH_RADIUS_M = 6_371_008.8;

export function haversineMeters(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLng = (lng2 - lng1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Even-odd ray casting on (lng, lat); points on an edge count as inside. */
export function pointInPolygon(lat: number, lng: number, ring: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [latI, lngI] = ring[i];
    const [latJ, lngJ] = ring[j];
    if (onSegment(lat, lng, latI, lngI, latJ, lngJ)) return true;
    if (latI > lat !== latJ > lat && lng < ((lngJ - lngI) * (lat - latI)) / (latJ - latI) + lngI) inside = !inside;
  }
  return inside;
}

function onSegment(lat: number, lng: number, la: number, na: number, lb: number, nb: number): boolean {
  const cross = (lb - la) * (lng - na) - (nb - na) * (lat - la);
  if (Math.abs(cross) > 1e-12) return false;
  return lat >= Math.min(la, lb) && lat <= Math.max(la, lb) && lng >= Math.min(na, nb) && lng <= Math.max(na, nb);
}

function position(v: unknown): LatLng | null {
  if (!Array.isArray(v) || v.length < 2 || typeof v[0] !== 'number' || typeof v[1] !== 'number') return null;
  return [v[1], v[0]];
}

function positions(v: unknown): LatLng[] {
  const out: LatLng[] = [];
  if (Array.isArray(v)) {
    for (const x of v) {
      const p = position(x);
      if (p !== null) out.push(p);
    }
  }
  return out;
}

/**
 * The shapes of a GeoJSON value (geometry, Feature, FeatureCollection, GeometryCollection;
 * coordinates `[lng, lat]`); null when it holds none.
 */
export function geojsonShapes(value: unknown): Shapes | null {
  const out: Shapes = { points: [], lines: [], polygons: [] };
  const add = (g: unknown): void => {
    if (typeof g !== 'object' || g === null) return;
    const o = g as Record<string, unknown>;
    const c = o.coordinates;
    switch (o.type) {
      case 'Point': {
        const p = position(c);
        if (p !== null) out.points.push(p);
        return;
      }
      case 'MultiPoint':
        out.points.push(...positions(c));
        return;
      case 'LineString':
        out.lines.push(positions(c));
        return;
      case 'MultiLineString':
        if (Array.isArray(c)) for (const l of c) out.lines.push(positions(l));
        return;
      case 'Polygon':
        if (Array.isArray(c)) out.polygons.push(c.map(positions));
        return;
      case 'MultiPolygon':
        if (Array.isArray(c)) for (const poly of c) if (Array.isArray(poly)) out.polygons.push(poly.map(positions));
        return;
      case 'GeometryCollection':
        if (Array.isArray(o.geometries)) for (const x of o.geometries) add(x);
        return;
      case 'Feature':
        add(o.geometry);
        return;
      case 'FeatureCollection':
        if (Array.isArray(o.features)) for (const f of o.features) add(f);
        return;
    }
  };
  add(value);
  return out.points.length + out.lines.length + out.polygons.length === 0 ? null : out;
}

/** Inside a polygon with holes (on an edge counts as inside). */
function inPolygon(p: LatLng, rings: readonly LatLng[][]): boolean {
  if (rings.length === 0 || !pointInPolygon(p[0], p[1], rings[0])) return false;
  return !rings.slice(1).some((hole) => hole.length > 2 && pointInPolygon(p[0], p[1], hole) && !onRing(p, hole));
}

function onRing(p: LatLng, ring: readonly LatLng[]): boolean {
  return ring.some((a, i) => onSegment(p[0], p[1], a[0], a[1], ring[(i + 1) % ring.length][0], ring[(i + 1) % ring.length][1]));
}

function segmentsCross(a: LatLng, b: LatLng, c: LatLng, d: LatLng): boolean {
  const orient = (p: LatLng, q: LatLng, r: LatLng) => Math.sign((q[1] - p[1]) * (r[0] - p[0]) - (q[0] - p[0]) * (r[1] - p[1]));
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(c[0], c[1], a[0], a[1], b[0], b[1])) ||
    (o2 === 0 && onSegment(d[0], d[1], a[0], a[1], b[0], b[1])) ||
    (o3 === 0 && onSegment(a[0], a[1], c[0], c[1], d[0], d[1])) ||
    (o4 === 0 && onSegment(b[0], b[1], c[0], c[1], d[0], d[1]))
  );
}

function edges(line: readonly LatLng[], closed: boolean): Array<[LatLng, LatLng]> {
  const out: Array<[LatLng, LatLng]> = [];
  for (let i = 0; i + 1 < line.length; i++) out.push([line[i], line[i + 1]]);
  if (closed && line.length > 2) out.push([line[line.length - 1], line[0]]);
  return out;
}

/** Do the shapes intersect the region `ring` (a simple polygon of `[lat, lng]` vertices)? */
export function shapesIntersectPolygon(s: Shapes, ring: readonly LatLng[]): boolean {
  const region = [ring.slice()];
  if (s.points.some((p) => inPolygon(p, region))) return true;
  const regionEdges = edges(ring, true);
  const crosses = (line: readonly LatLng[], closed: boolean) =>
    line.some((p) => inPolygon(p, region)) || edges(line, closed).some(([a, b]) => regionEdges.some(([c, d]) => segmentsCross(a, b, c, d)));
  if (s.lines.some((l) => crosses(l, false))) return true;
  // A polygon intersects when an edge crosses, a vertex is inside, or it contains the region.
  return s.polygons.some((rings) => rings.some((r) => crosses(r, true)) || (ring.length > 0 && inPolygon(ring[0], rings)));
}

/** Distance in meters from `c` to the segment a–b, on a local equirectangular projection around `c`. */
function segmentDistance(c: LatLng, a: LatLng, b: LatLng): number {
  const k = (Math.PI / 180) * EARTH_RADIUS_M;
  const cos = Math.cos(c[0] * (Math.PI / 180));
  const ax = (a[1] - c[1]) * cos * k;
  const ay = (a[0] - c[0]) * k;
  const bx = (b[1] - c[1]) * cos * k;
  const by = (b[0] - c[0]) * k;
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/** Does a shape come within `radius` meters of `center`? */
export function shapesWithinRadius(s: Shapes, center: LatLng, radius: number): boolean {
  const near = (p: LatLng) => haversineMeters(center[0], center[1], p[0], p[1]) <= radius + Number.EPSILON;
  if (s.points.some(near)) return true;
  const lineNear = (line: readonly LatLng[], closed: boolean) =>
    line.some(near) || edges(line, closed).some(([a, b]) => segmentDistance(center, a, b) <= radius);
  if (s.lines.some((l) => lineNear(l, false))) return true;
  return s.polygons.some((rings) => inPolygon(center, rings) || rings.some((r) => lineNear(r, true)));
}
