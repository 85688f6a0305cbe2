import { useHotkeys } from '../lib/hooks';
import { LAYOUT_KEYS, neighbour } from './layouts';
import type { WallAction, WallState } from './wall-state';

export const SHORTCUTS: Array<[string, string]> = [
  ['1 … 0', '布局 Layout 1 / 4 / 9 / 16 / 25 / 36 / 1+5 / 1+7 / 64 / 1+12'],
  ['← ↑ → ↓', '选择窗口 Move between tiles'],
  ['Enter', '聚焦（主码流）/ 还原 Focus the tile (main stream) / back'],
  ['Esc', '退出聚焦 Leave focus'],
  ['Delete', '清除窗口 Clear the tile'],
  ['f / Shift+F', '全屏：整墙 / 窗口 Fullscreen: wall / tile'],
  ['Space', '暂停/继续轮巡 Pause / resume the tour'],
  ['a', '确认报警 Acknowledge the alarm'],
  ['m', '地图 Map'],
  ['/', '搜索点位 Search cameras'],
  ['?', '快捷键 This help'],
];

export function useWallKeys(s: WallState, dispatch: (a: WallAction) => void, h: {
  fullscreenWall(): void; fullscreenTile(): void; toggleTour(): void; ack(): void; toggleMap(): void; search(): void; help(): void;
}): void {
  const move = (dir: 'left' | 'right' | 'up' | 'down') => () => {
    if (s.focused !== null) return;
    dispatch({ type: 'select', index: neighbour(s.layout, s.selected, dir) });
    window.requestAnimationFrame(() => (document.querySelector(`[data-testid="tile"][data-index="${s.selected}"]`) as HTMLElement | null)?.blur());
  };
  const map: Record<string, (e: KeyboardEvent) => void> = {
    ArrowLeft: move('left'), ArrowRight: move('right'), ArrowUp: move('up'), ArrowDown: move('down'),
    Enter: () => dispatch({ type: 'focus', index: s.focused === null ? s.selected : null }),
    Escape: () => { if (s.focused !== null) dispatch({ type: 'focus', index: null }); },
    Delete: () => dispatch({ type: 'assign', index: s.selected, cameraId: null }),
    Backspace: () => dispatch({ type: 'assign', index: s.selected, cameraId: null }),
    f: h.fullscreenWall, F: h.fullscreenTile, ' ': h.toggleTour, a: h.ack, m: h.toggleMap, '/': h.search, '?': h.help,
  };
  for (const [k, layout] of Object.entries(LAYOUT_KEYS)) map[k] = () => dispatch({ type: 'layout', layout });
  useHotkeys(map);
}
