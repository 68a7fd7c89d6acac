#!/usr/bin/env bash
# Posts the plan's markdown parts (plan-1.md, plan-2.md, ...) as pull-request comments with `gh`,
# updating the comments of an earlier run in place instead of adding new ones on every push.
#
# Each comment starts with a hidden marker naming the action instance (RECONCILER_COMMENT_ID, so two
# environments planned in one PR keep separate comments) and the part number. Parts an earlier,
# longer plan left behind are deleted, so the PR never shows a stale part 3 of 2.
#
# Environment: GH_TOKEN, GITHUB_REPOSITORY, RECONCILER_PR (number), RECONCILER_COMMENT_DIR,
# RECONCILER_COMMENT_ID.
set -euo pipefail

repo="${GITHUB_REPOSITORY:?}"
pr="${RECONCILER_PR:?pull request number}"
dir="${RECONCILER_COMMENT_DIR:?directory holding plan-N.md}"
id="${RECONCILER_COMMENT_ID:-default}"
prefix="<!-- reconciler-plan: $id part "

existing="$(mktemp)"
gh api --paginate "repos/$repo/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$prefix\")) | \"\(.id) \(.body | ltrimstr(\"$prefix\") | split(\" \")[0])\"" \
  > "$existing"

comment_for_part() {  # prints the id of the existing comment holding part $1, if any
  awk -v part="$1" '$2 == part { print $1; exit }' "$existing"
}

count=0
while [ -f "$dir/plan-$((count + 1)).md" ]; do
  count=$((count + 1))
  file="$dir/plan-$count.md"
  body="$(mktemp)"
  { printf '%s%s -->\n' "$prefix" "$count"; cat "$file"; } > "$body"
  found="$(comment_for_part "$count")"
  if [ -n "$found" ]; then
    gh api --method PATCH "repos/$repo/issues/comments/$found" -F "body=@$body" > /dev/null
    echo "updated comment $found (part $count)"
  else
    gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" > /dev/null
    echo "posted part $count"
  fi
  rm -f "$body"
done

while read -r comment part; do
  if [ "$part" -gt "$count" ]; then
    gh api --method DELETE "repos/$repo/issues/comments/$comment" > /dev/null
    echo "deleted comment $comment (part $part of an earlier, longer plan)"
  fi
done < "$existing"
rm -f "$existing"
