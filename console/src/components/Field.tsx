import { useId, type ReactNode } from 'react';

/** A labelled form control with its error underneath, wired for screen readers. */
export function Field({ label, en, error, hint, wide, children }: {
  label: string;
  en?: string;
  error?: string;
  hint?: ReactNode;
  wide?: boolean;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const errId = `${id}-err`;
  return (
    <div className={`field${error ? ' field-invalid' : ''}${wide ? ' field-wide' : ''}`}>
      <label htmlFor={id}>
        {label} {en ? <span className="en">{en}</span> : null}
      </label>
      {children({ id, 'aria-invalid': !!error, 'aria-describedby': error ? errId : undefined })}
      {error ? <div className="field-error" id={errId} role="alert">{error}</div> : hint ? <div className="field-hint">{hint}</div> : null}
    </div>
  );
}
