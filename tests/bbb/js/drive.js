// Drives the npm client bigbluebutton-js against a server: node drive.js
// <server url> <secret> <meeting id>. Prints what each call answered, as
// one JSON object, for tests/integration/test_bbb_api.py to check.

"use strict";

const bbb = require("bigbluebutton-js");

async function main() {
  const [server, secret, id] = process.argv.slice(2);
  const api = bbb.api(`${server}/bigbluebutton/`, secret);
  const http = bbb.http;
  const out = {};
  out.create = await http(api.administration.create("JS meeting", id,
    { attendeePW: "ap", moderatorPW: "mp", duration: 30,
      meta_origin: "bigbluebutton-js" }));
  out.joinUrl = api.administration.join("Jo Script", id, "mp",
    { redirect: false });
  out.join = await http(out.joinUrl);
  out.running = await http(api.monitoring.isMeetingRunning(id));
  out.info = await http(api.monitoring.getMeetingInfo(id));
  out.meetings = await http(api.monitoring.getMeetings());
  out.recordings = await http(api.recording.getRecordings({ meetingID: id }));
  out.hook = await http(api.hooks.create("http://127.0.0.1:9/hook",
    { meetingID: id }));
  out.hooks = await http(api.hooks.list());
  out.unhook = await http(api.hooks.destroy(out.hook.hookID));
  out.end = await http(api.administration.end(id, "mp"));
  out.after = await http(api.monitoring.getMeetingInfo(id));
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
