/**
 * A synthetic city inventory as a provincial platform exports it (tests and `npm run bench` only): one row per
 * camera, every column filled, about 235 bytes a row, so 50,000 rows ≈ 11.7 MB. Addresses are in 10.0.0.0/8.
 */
export const FIXTURE_DISTRICTS = ['西湖区', '上城区', '拱墅区', '滨江区', '萧山区', '余杭区'];
export const FIXTURE_HEADER = 'national_id,name,owner,sharing,lat,lng,address,district,street,community,grid_code,tags,rtsp_main,rtsp_sub,onvif_url,username,password';

/** Row i of the inventory; `variant` changes the owner and the address (a re-import that updates every camera). */
export function fixtureRow(i: number, variant = 0): string {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return [
    `33010600001320${String(i).padStart(6, '0')}`, `路口 ${i} 号`, (i + variant) % 4 ? '公安分局' : '城管局', i % 10 ? 'shared' : 'restricted',
    (30.2 + (i % 100) / 1000).toFixed(5), (120.1 + (i % 97) / 1000).toFixed(5), `文三路 ${i + variant} 号`, FIXTURE_DISTRICTS[i % FIXTURE_DISTRICTS.length],
    `街道${i % 40}`, `社区${i % 200}`, `330106${String(i % 500).padStart(3, '0')}00101`.slice(0, 14), i % 3 ? 'road' : 'road;market',
    `rtsp://${ip}/main`, `rtsp://${ip}/sub`, `http://${ip}/onvif/device_service`, 'admin', `pw-${i}`,
  ].join(',');
}

export function fixtureCsv(rows: number, variant = 0): Buffer {
  const lines = [FIXTURE_HEADER];
  for (let i = 0; i < rows; i++) lines.push(fixtureRow(i, variant));
  return Buffer.from(lines.join('\n'));
}
