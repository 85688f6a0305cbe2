const STATUS: Record<string, { cls: string; label: string }> = {
  online: { cls: 'ok', label: '在线 online' },
  live: { cls: 'ok', label: '在线 live' },
  reachable: { cls: 'ok', label: '在线 reachable' },
  connecting: { cls: 'warn', label: '连接中 connecting' },
  reconnecting: { cls: 'warn', label: '重连中 reconnecting' },
  auth_failed: { cls: 'err', label: '认证失败 auth failed' },
  idle: { cls: 'off', label: '空闲 idle' },
  degraded: { cls: 'warn', label: '异常 degraded' },
  offline: { cls: 'off', label: '离线 offline' },
  error: { cls: 'err', label: '故障 error' },
  unknown: { cls: 'off', label: '未知 unknown' },
};

export function statusLabel(status: string): string {
  return STATUS[status]?.label ?? status;
}

/** A camera's health as a coloured pill; unknown values are shown as they come. */
export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  const s = STATUS[status] ?? { cls: 'off', label: status };
  return (
    <span className={`badge badge-${s.cls}`} title={reason ?? undefined}>
      {s.label}
    </span>
  );
}
