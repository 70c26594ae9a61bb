/**
 * Text from the network (peer aliases, failure strings, error details) is attacker-controlled:
 * these helpers make it inert before it reaches a MarkdownString, a label or a log line.
 */

// Bidi overrides/isolates (Trojan Source), zero-width joiners and other format characters.
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A single line of plain text: no control or bidi characters, collapsed spaces, bounded length. */
export function sanitizeText(s: string, max = 64): string {
  const clean = s.replace(CONTROL, ' ').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * Escapes text for Markdown (CommonMark + GFM tables) so it renders literally: every ASCII
 * punctuation that Markdown gives a meaning gets a backslash, `<`/`>`/`&` become entities (no
 * HTML, no autolinks), `$` is escaped so `$(icon)` stays text.
 */
export function escapeMarkdown(s: string): string {
  return sanitizeText(s, 200)
    .replace(/[\\`*_{}[\]()#+\-.!|~:$"'=]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
