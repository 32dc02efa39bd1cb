#!/usr/bin/env bash
# The README's quick start, command for command, against a running dev gateway (`make run` in another terminal).
# The test suite runs it against a real `gateway serve` (tests/integration/sandbox/test_quickstart.py) and checks
# that every command the README's quick start shows is here, so the quick start cannot rot.
#   scripts/quickstart.sh                          # against http://127.0.0.1:8000
#   GW=http://127.0.0.1:9000 scripts/quickstart.sh # elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
GW=${GW:-http://127.0.0.1:8000}
step() { printf '\n== %s\n' "$*" >&2; }

step "1. an API key for the vendor app's back end"
export GATEWAY_API_KEY=$(.venv/bin/gateway api-keys create --name quickstart --scope launches --scope writeback | tail -1)

step "2. launch as a student; the vendor page holds the one-time code (what you would copy from the browser)"
CODE=$(.venv/bin/python -m sandbox.shell_launch "$GW" --as student)

step "3. redeem the code from the shell, as your back end will"
LAUNCH=$(curl -s -X POST -H "Authorization: Bearer $GATEWAY_API_KEY" -H 'Content-Type: application/json' \
  -d "{\"code\": \"$CODE\"}" $GW/api/v1/launches/redeem)
echo "$LAUNCH"
CONTEXT=$(echo "$LAUNCH" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["writeback"]["context_id"])')
STUDENT=$(echo "$LAUNCH" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')

step "4. what the course allows"
curl -s -H "Authorization: Bearer $GATEWAY_API_KEY" $GW/api/v1/contexts/$CONTEXT

step "5. an assignment"
curl -s -X POST -H "Authorization: Bearer $GATEWAY_API_KEY" -H 'Content-Type: application/json' \
  -d '{"title": "Fractions quiz", "points_possible": 10, "vendor_id": "quiz-1"}' \
  $GW/api/v1/contexts/$CONTEXT/assignments

step "6. a grade"
curl -s -X PUT -H "Authorization: Bearer $GATEWAY_API_KEY" -H 'Content-Type: application/json' \
  -d '{"score_given": 8, "score_maximum": 10, "comment": "Well done"}' \
  $GW/api/v1/contexts/$CONTEXT/assignments/ext:quiz-1/grades/$STUDENT

step "7. watch it arrive in the LMS's gradebook ($GW/sandbox/lms/gradebook)"
for _ in $(seq 1 60); do
    if curl -s $GW/sandbox/lms/gradebook | grep -q 'class="given">8<'; then
        echo "the gradebook shows the grade: $GW/sandbox/lms/gradebook" >&2
        exit 0
    fi
    sleep 1
done
echo "the grade did not reach the gradebook within 60 s: see $GW/sandbox/lms/gradebook and /api/v1/deliveries" >&2
exit 1
