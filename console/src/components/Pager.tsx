export function Pager({ offset, limit, total, onOffset, busy }: { offset: number; limit: number; total: number; onOffset: (o: number) => void; busy?: boolean }) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  return (
    <div className="pager" aria-label="分页 Paging">
      <span className="muted tabular" data-testid="range">
        {from}–{to} / 共 <strong data-testid="total">{total}</strong> 条
      </span>
      <button type="button" className="btn btn-small" disabled={busy || offset === 0} onClick={() => onOffset(0)} title="首页 First">«</button>
      <button type="button" className="btn btn-small" disabled={busy || offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))} title="上一页 Previous ([)">‹</button>
      <span className="tabular">{page} / {pages}</span>
      <button type="button" className="btn btn-small" disabled={busy || to >= total} onClick={() => onOffset(offset + limit)} title="下一页 Next (])">›</button>
      <button type="button" className="btn btn-small" disabled={busy || to >= total} onClick={() => onOffset((pages - 1) * limit)} title="末页 Last">»</button>
    </div>
  );
}
