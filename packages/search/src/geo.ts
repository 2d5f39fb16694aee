/**
 * Geo distance as milli computes it for `_geoPoint` sorts.
 */

/** geoutils `haversine_distance_to` (used by milli): meters, rounded to the millimeter. */
export function haversineMeters(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const hav = (theta: number): number => (1 - Math.cos(theta)) / 2;
  const rad = Math.PI / 180;
  const phi1 = lat1 * rad;
  const phi2 = lat2 * rad;
  const total = hav(phi2 - phi1) + Math.cos(phi1) * Math.cos(phi2) * hav((lng2 - lng1) * rad);
  return Math.round(2 * 6371e3 * Math.asin(Math.sqrt(total)) * 1000) / 1000;
}
