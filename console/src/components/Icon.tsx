/**
 * Icons drawn as inline SVG: they never depend on the fonts installed on a desk (glyphs such as ⛶ or ⟳ render as
 * empty boxes where the font lacks them). currentColor, 1em, hidden from screen readers (the button's title says it).
 */
export type IconName = 'fullscreen' | 'close' | 'play' | 'pause' | 'warning' | 'tour' | 'check' | 'star' | 'star-filled';

const PATHS: Record<IconName, string> = {
  fullscreen: 'M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4',
  close: 'M3.5 3.5l9 9M12.5 3.5l-9 9',
  play: 'M4.5 2.5v11l9-5.5z',
  pause: 'M5 2.5v11M11 2.5v11',
  warning: 'M8 1.8L15 14H1zM8 6v4M8 11.6v.8',
  tour: 'M13.5 8a5.5 5.5 0 1 1-1.6-3.9M13.5 2v3h-3',
  check: 'M2.5 8.5l3.5 3.5 7.5-8',
  star: 'M8 1.5l2 4.3 4.6.5-3.4 3.1 1 4.6L8 11.6 3.8 14l1-4.6L1.4 6.3 6 5.8z',
  'star-filled': 'M8 1.5l2 4.3 4.6.5-3.4 3.1 1 4.6L8 11.6 3.8 14l1-4.6L1.4 6.3 6 5.8z',
};

export function Icon({ name, className }: { name: IconName; className?: string }) {
  const filled = name === 'play' || name === 'star-filled';
  return (
    <svg className={`icon${className ? ` ${className}` : ''}`} data-icon={name} width="1em" height="1em" viewBox="0 0 16 16" aria-hidden="true" focusable="false"
      fill={filled ? 'currentColor' : 'none'} stroke="currentColor" strokeWidth={1.6} strokeLinecap="round" strokeLinejoin="round">
      <path d={PATHS[name]} />
    </svg>
  );
}
