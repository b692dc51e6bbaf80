#!/usr/bin/env bash
# Keeps a shared CARGO_TARGET_DIR from filling the disk: every build leaves a new copy of each
# workspace crate's test binaries and incremental state behind, and on a long-lived machine
# they add up to tens of GB. When less than NLQ_MIN_FREE_GB (default 20) is free on its disk,
# removes the incremental caches and the workspace's own artifacts older than two hours (a
# run's own are younger; a day was too long once a session ran CI a dozen times and the disk
# filled mid-build) — the dependencies, which take the longest to build, stay.
set -euo pipefail
target="${CARGO_TARGET_DIR:-$HOME/.cache/nlq/target}"
min_free_gb="${NLQ_MIN_FREE_GB:-20}"
[ -d "$target" ] || exit 0
free_gb=$(df -Pk "$target" | awk 'NR == 2 { print int($4 / 1048576) }')
if [ "$free_gb" -ge "$min_free_gb" ]; then
  exit 0
fi
echo "prune-target: ${free_gb} GB free (< ${min_free_gb}): pruning $target" >&2
for profile in debug release; do
  rm -rf "$target/$profile/incremental"
  deps="$target/$profile/deps"
  [ -d "$deps" ] || continue
  # The workspace's crates and test binaries are named after it; dependencies are not.
  find "$deps" -maxdepth 1 -type f -mmin +120 \
    \( -name 'nlq*' -o -name 'libnlq*' -o -name 'it-*' -o -name 'api-*' -o -name 'cli-*' \
       -o -name 'server-*' -o -name 'profile-*' -o -name 'deploy-*' -o -name 'tidy-*' \
       -o -name 'metadata-*' -o -name 'vocabulary-*' -o -name 'ask-*' -o -name 'llm-*' \
       -o -name 'ga4_depth-*' -o -name 'import-*' -o -name 'gcs-*' \) -delete
done
echo "prune-target: $(df -Pk "$target" | awk 'NR == 2 { print int($4 / 1048576) }') GB free now" >&2
