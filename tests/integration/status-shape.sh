#!/usr/bin/env bash
# acso status on state files of the wrong shape (issue 15, item 19): a clear
# warning, never an abort, and the file is left where it is (status only reads).
. "$(dirname "$0")/../lib.sh"
W=$T/w
mkdir -p "$W/state"
shape() { # shape NAME JSON
	printf '%s\n' "$2" >"$W/state/t.json"
	t_exit 0 "status on $1 exits 0 (no abort)" "$ACSO" --work-dir "$W" status t
	t_grep "status on $1 says the record is not valid" "status: '$W/state/t.json' is not a valid state record" "$T/.err"
	t_ok "status on $1 leaves the file" test -f "$W/state/t.json"
	t_exit 0 "status --json on $1 exits 0 (no abort)" "$ACSO" --work-dir "$W" status --json t
}
shape 'steps as an array' '{"steps": []}'
shape 'steps as a string' '{"steps": "x"}'
shape 'a step record as an array' '{"steps": {"build": []}}'
shape 'a step record as a number' '{"steps": {"build": 3}}'
printf '%s\n' '{"steps": {"build": {"state": "done", "seconds": 1.5}}}' >"$W/state/t.json"
t_exit 0 "status on a good record" "$ACSO" --work-dir "$W" status t
t_grep "... shows the step" '^  build +done' "$T/.out"
t_done
