#!/bin/sh
# Presence Bridge HTTP API with curl (docs/http-api.md). Set these first:
#   PB_URL    where the bridge's HTTP server listens: http://HOST:PORT (the daemon: --http PORT)
#   PB_TOKEN  the server's token (PRESENCE_BRIDGE_HTTP_TOKEN / http.token); required when the
#             server listens beyond loopback
# Each command stands alone: copy the one you need. -f makes curl fail on an error status;
# drop it to read the error's JSON ({"error":{"code","message"}}).

# Every user's state
curl -fsS -H "Authorization: Bearer $PB_TOKEN" "$PB_URL/api/v1/users"

# One user's state (alex is a users[].key from the config)
curl -fsS -H "Authorization: Bearer $PB_TOKEN" "$PB_URL/api/v1/users/alex"

# In a call for 30 minutes, then back to whatever the other inputs say
curl -fsS -X PUT -H "Authorization: Bearer $PB_TOKEN" -H "Content-Type: application/json" -d '{"presence":"Busy/InACall","for":"PT30M"}' "$PB_URL/api/v1/users/alex/presence"

# Do not disturb until cleared
curl -fsS -X PUT -H "Authorization: Bearer $PB_TOKEN" -H "Content-Type: application/json" -d '{"presence":"DoNotDisturb/Presenting"}' "$PB_URL/api/v1/users/alex/presence"

# Clear what the API holds (other inputs keep theirs)
curl -fsS -X DELETE -H "Authorization: Bearer $PB_TOKEN" "$PB_URL/api/v1/users/alex/presence"

# The OpenAPI document (no token needed)
curl -fsS "$PB_URL/api/v1/openapi.json"
