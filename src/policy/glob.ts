/**
 * Shell-style glob for usernames: `*` matches any run of characters (including `:`), `?` exactly one (code point),
 * everything else itself. `system:serviceaccount:ci:*` matches every service account in namespace ci.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // u: `?` is one character even outside the Basic Multilingual Plane (not half a surrogate pair).
  return new RegExp(`^${source}$`, 'su');
}

export function matchesGlob(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}
