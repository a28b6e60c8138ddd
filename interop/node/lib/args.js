'use strict';
// The command-line flags of the interop scripts: `flag('--gen', '2')` is the word after
// `--gen` on the command line, or the default when the flag is absent.

function flag(name, dflt) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf(name);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : dflt;
}

module.exports = { flag };
