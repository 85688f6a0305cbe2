import type { ReactNode } from 'react';

export function Notice({ kind = 'info', title, children }: { kind?: 'info' | 'error' | 'ok' | 'warn'; title?: ReactNode; children?: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {title ? <strong>{title}</strong> : null}
      {children ? <div>{children}</div> : null}
    </div>
  );
}
