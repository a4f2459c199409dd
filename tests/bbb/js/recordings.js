// Asks a server for a meeting's recordings with the npm client
// bigbluebutton-js: node recordings.js <server url> <secret> <meeting id>.
// Prints the answer as JSON for tests/integration/test_bbb_api.py.

"use strict";

const bbb = require("bigbluebutton-js");

async function main() {
  const [server, secret, id] = process.argv.slice(2);
  const api = bbb.api(`${server}/bigbluebutton/`, secret);
  const answer = await bbb.http(api.recording.getRecordings({ meetingID: id }));
  process.stdout.write(JSON.stringify(answer));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
