#!/bin/sh
# weft-run --timeout ends a guest blocked writing to a pipe nobody reads:
# usage: timeout_unread_pipe.sh WEFT_RUN GUEST.wat
# The reader (sleep) never reads and outlives the test's own time limit, so
# a write that cannot be stopped would hang here.
set -u
fifo="${TMPDIR:-/tmp}/weft-unread-$$"
mkfifo "$fifo" || exit 1
sleep 120 < "$fifo" > /dev/null 2>&1 &
reader=$!
start=$(date +%s)
"$1" --timeout 300ms "$2" > "$fifo" 2> /dev/null
code=$?
took=$(( $(date +%s) - start ))
kill "$reader" 2> /dev/null
rm -f "$fifo"
echo "weft-run exited with $code after ${took}s"
[ "$code" -eq 124 ] && [ "$took" -le 10 ]
