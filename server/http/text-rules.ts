/**
 * Characters no name, filter or identifier may hold: C0 controls (NUL among them: PostgreSQL refuses it in text),
 * DEL, C1 controls (U+0080–U+009F, e.g. U+0085 NEXT LINE) and the Unicode line/paragraph separators U+2028/U+2029
 * (they break lines in logs, CSV viewers and JavaScript strings). One rule for bodies, CSV cells and query strings.
 */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same as a JSON-schema pattern for a whole string that holds none of them. */
export const NO_CONTROL_CHARS_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$';
