// Text from a process (make.bash, the go command) made fit for one line: a record value, an error message.

/** No control characters, white space collapsed, at most `max` characters; 'no output' when nothing is left. */
export function printableLine(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  return cleaned.slice(0, max).trim() || 'no output';
}
