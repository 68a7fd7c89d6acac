#!/usr/bin/env bash
# Publishes the plan's layout pictures (pictures: png or svg) and links them from the comment parts.
#
# The image files are committed to a branch of this repository (RECONCILER_PICTURES_BRANCH), one
# commit per plan run on top of the branch's previous tip, under pr-N/run-ID-ATTEMPT/COMMENT-ID/, and
# pushed with the job's token. The comment links each file by that commit's SHA, so a later push to
# the branch never changes a picture an old comment shows. GitHub fetches images anonymously through
# its camo proxy: the pictures show only where the repository is public (or on GitHub Enterprise
# setups whose readers can fetch raw files). If publishing fails, the comment is rendered again
# without image links (the text drawings stay) and a warning is printed; the plan is not affected.
#
# Environment: GH_TOKEN, GITHUB_REPOSITORY, GITHUB_SERVER_URL (default https://github.com),
# GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, RECONCILER_PR, RECONCILER_PLAN_FILE, RECONCILER_PICTURES_BRANCH,
# RECONCILER_PICTURES_DIR, RECONCILER_COMMENT_DIR, RECONCILER_COMMENT_ID.
set -euo pipefail

repo="${GITHUB_REPOSITORY:?}"
server="${GITHUB_SERVER_URL:-https://github.com}"
branch="${RECONCILER_PICTURES_BRANCH:-reconciler-pictures}"
pictures="${RECONCILER_PICTURES_DIR:?directory holding the pictures}"
comments="${RECONCILER_COMMENT_DIR:?directory holding plan-N.md}"
placeholder="https://reconciler-pictures.invalid/base"
comment_id="$(printf '%s' "${RECONCILER_COMMENT_ID:-default}" | tr -c 'A-Za-z0-9._-' '_')"
folder="pr-${RECONCILER_PR:?}/run-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}/$comment_id"

without_pictures() {  # the comment as text drawings only: never post links to nothing
  echo "::warning::layout pictures were not published ($1); the comment shows the text drawings only"
  reconciler show "${RECONCILER_PLAN_FILE:-plan.json}" --format markdown --out-dir "$comments"
  exit 0
}

if ! compgen -G "$pictures/*" > /dev/null; then
  exit 0  # no layout changed: nothing to publish, and no link to fill in
fi

auth=()
if [ -n "${GH_TOKEN:-}" ]; then
  # the token goes in a header for this command only: never into a URL, the log or .git/config
  basic="$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')"
  echo "::add-mask::$basic"
  auth=(-c "http.extraheader=AUTHORIZATION: basic $basic")
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

commit_pictures() {  # a new commit on top of the branch's current tip (or the branch's first commit)
  rm -rf "$work/repo"
  git init -q "$work/repo"
  git -C "$work/repo" remote add origin "$server/$repo.git"
  if git "${auth[@]}" -C "$work/repo" fetch -q --depth 1 origin "refs/heads/$branch" 2> /dev/null; then
    git -C "$work/repo" checkout -q -B "$branch" FETCH_HEAD
  else
    git -C "$work/repo" checkout -q --orphan "$branch"
  fi
  git -C "$work/repo" rm -rq --ignore-unmatch -- "$folder"
  mkdir -p "$work/repo/$folder"
  cp "$pictures"/* "$work/repo/$folder/"
  git -C "$work/repo" add -- "$folder"
  git -C "$work/repo" -c user.name="github-actions[bot]" \
    -c user.email="github-actions[bot]@users.noreply.github.com" \
    commit -q -m "Layout pictures of pull request #$RECONCILER_PR ($folder)"
}

published=""
for attempt in 1 2 3; do  # another run may push in between: fetch the new tip and commit again
  commit_pictures
  if git "${auth[@]}" -C "$work/repo" push -q origin "HEAD:refs/heads/$branch" 2> "$work/push.log"; then
    published="$(git -C "$work/repo" rev-parse HEAD)"
    break
  fi
  echo "push attempt $attempt refused: $(head -c 300 "$work/push.log")"
done
if [ -z "$published" ]; then
  without_pictures "pushing to the branch $branch failed"
fi

if [ "$server" = "https://github.com" ]; then
  base="https://raw.githubusercontent.com/$repo/$published/$folder"
else
  base="$server/$repo/raw/$published/$folder"
fi
for part in "$comments"/plan-*.md; do
  sed -i "s#$placeholder#$base#g" "$part"
done
echo "published $(find "$pictures" -type f | wc -l) picture(s) at $base"
