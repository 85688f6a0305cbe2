import { forwardRef } from 'react';
import { geometry } from './layouts';
import { Tile, type TileProps } from './Tile';
import type { Alarm, Layout, TreeCamera } from './types';
import type { TileRate } from './decode-budget';
import type { StatsBoard } from './useDecodeBudget';

type Handlers = Pick<TileProps, 'onSelect' | 'onToggleFocus' | 'onDropCamera' | 'onSwap' | 'onClear' | 'onAck' | 'onSetAlarmTile'>;

/** The tiles of the current layout on a CSS grid; a focused tile covers the wall while the others keep playing. */
export const WallGrid = forwardRef<HTMLDivElement, Handlers & {
  layout: Layout;
  tiles: (string | null)[];
  cameras: Map<string, TreeCamera>;
  /** each tile's frame rate from the decode budget (tiles without a camera are absent) */
  rates: Map<number, TileRate>;
  board: StatsBoard;
  selected: number;
  focused: number | null;
  alarmTile: number;
  alarm: Alarm | null;
  snapshotEveryMs: number;
}>(function WallGrid(p, ref) {
  const g = geometry(p.layout);
  return (
    <div ref={ref} className={`wall-grid${p.focused !== null ? ' has-focus' : ''}`} role="grid" aria-label="视频墙 Video wall" data-testid="wall-grid" data-layout={p.layout}
      style={{ gridTemplateColumns: `repeat(${g.cols}, 1fr)`, gridTemplateRows: `repeat(${g.rows}, 1fr)` }}>
      {g.tiles.map((box, i) => {
        const id = p.tiles[i] ?? null;
        return (
          <div key={i} className="tile-slot" style={{ gridRow: `${box.row + 1} / span ${box.rowSpan}`, gridColumn: `${box.col + 1} / span ${box.colSpan}` }}>
            <Tile index={i} cameraId={id} camera={id ? p.cameras.get(id) ?? null : null} rate={p.rates.get(i) ?? 'full'} board={p.board}
              stream={p.focused === i ? 'main' : 'sub'} selected={p.selected === i} focused={p.focused === i}
              isAlarmTile={p.alarmTile === i} alarm={p.alarmTile === i ? p.alarm : null} snapshotEveryMs={p.snapshotEveryMs}
              onSelect={p.onSelect} onToggleFocus={p.onToggleFocus} onDropCamera={p.onDropCamera} onSwap={p.onSwap}
              onClear={p.onClear} onAck={p.onAck} onSetAlarmTile={p.onSetAlarmTile} />
          </div>
        );
      })}
    </div>
  );
});
