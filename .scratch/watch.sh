#!/bin/sh
# save smaps of medianest serve processes every 20 s
while true; do
  for p in $(pgrep -f "medianest serve" ); do
    [ -r /proc/$p/smaps ] && cp /proc/$p/smaps /tmp/smaps/$p.$(date +%s) 2>/dev/null
    [ -r /proc/$p/status ] && grep -E "VmRSS|Threads" /proc/$p/status > /tmp/smaps/$p.$(date +%s).status 2>/dev/null
  done
  sleep 20
done
