"""The BigBlueButton-compatible API at /bigbluebutton/api, so that learning
platforms and other integrations written for BigBlueButton work unchanged.

`api` routes and checks each call, `meetings`, `recordings` and `hooks`
answer them, `xml` writes BigBlueButton's response shapes, `checksum` checks
the shared secret, `service` holds what the calls share and `webhooks` tells
integrations what happens. docs/bbb-api.md is the reference.
"""
