#!/usr/bin/env bash
# Runs `reconciler plan` or `reconciler apply` for the composite action and reports its exit code.
#
# Exit code 2 of `plan --detailed-exitcode` means "changes present", not failure. Shells started with
# `-e` (GitHub's default for `shell: bash`) and many wrappers treat it as an error or swallow it, so
# this script captures it explicitly, publishes it as the outputs `exitcode`, `has-changes` and
# `failed`, and always exits 0 itself: the action's last step fails the job when `failed` is true,
# after the PR comment and the artifact were taken care of.
#
# Inputs (environment): RECONCILER_COMMAND plan|apply, RECONCILER_PATHS (whitespace-separated),
# RECONCILER_INPUT_STATE (the action's `state` input; when empty, RECONCILER_STATE from the job's env),
# RECONCILER_ARGS (extra arguments, whitespace-separated), RECONCILER_PLAN_FILE, RECONCILER_COMMENT_DIR,
# RECONCILER_PICTURES (text|png|svg) and RECONCILER_PICTURES_DIR, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY (optional).
#
# With pictures png or svg the image links point at PICTURES_BASE until publish.sh has committed the
# files and knows the commit to link; a comment is never posted with that placeholder left in.
set -uo pipefail

command="${RECONCILER_COMMAND:?plan or apply}"
plan_file="${RECONCILER_PLAN_FILE:-plan.json}"
comment_dir="${RECONCILER_COMMENT_DIR:-reconciler-comment}"
output="${GITHUB_OUTPUT:-/dev/null}"
read -r -a paths <<< "${RECONCILER_PATHS:-}"
read -r -a extra <<< "${RECONCILER_ARGS:-}"
state_url="${RECONCILER_INPUT_STATE:-${RECONCILER_STATE:-}}"
state=()
if [ -n "$state_url" ]; then
  state=(--state "$state_url")
fi
pictures=()
case "${RECONCILER_PICTURES:-text}" in
  text) ;;
  png|svg)
    pictures_dir="${RECONCILER_PICTURES_DIR:-reconciler-pictures}"
    rm -rf "$pictures_dir"
    pictures=(--pictures-dir "$pictures_dir" --pictures-url "https://reconciler-pictures.invalid/base"
              --pictures-format "$RECONCILER_PICTURES")
    ;;
  *)
    echo "::error::pictures must be text, png or svg, got '$RECONCILER_PICTURES'"
    printf 'exitcode=1\nhas-changes=false\nfailed=true\n' >> "${GITHUB_OUTPUT:-/dev/null}"
    exit 0
    ;;
esac
errors="$(mktemp)"

case "$command" in
  plan)
    rm -rf "$comment_dir"
    mkdir -p "$comment_dir"
    reconciler plan "${paths[@]}" "${state[@]}" --out "$plan_file" --format markdown --out-dir "$comment_dir" \
      "${pictures[@]}" --detailed-exitcode "${extra[@]}" 2> "$errors"
    code=$?
    ;;
  apply)
    if [ -f "$plan_file" ]; then
      # the saved plan is what was reviewed: apply exactly it (refused when stale)
      reconciler apply "$plan_file" "${state[@]}" "${extra[@]}" 2> "$errors"
    else
      reconciler apply "${paths[@]}" "${state[@]}" --auto-approve "${extra[@]}" 2> "$errors"
    fi
    code=$?
    ;;
  *)
    echo "::error::command must be plan or apply, got '$command'"
    code=1
    ;;
esac
cat "$errors" >&2  # shown after the output: the log keeps every line, the comment quotes them

if [ "$command" = plan ]; then
  failed=$([ "$code" -eq 0 ] || [ "$code" -eq 2 ] && echo false || echo true)
  has_changes=$([ "$code" -eq 2 ] && echo true || echo false)
else
  failed=$([ "$code" -eq 0 ] && echo false || echo true)
  has_changes=false
fi

if [ "$command" = plan ] && [ "$failed" = true ]; then
  # no markdown was rendered: the comment says what went wrong instead (the CLI redacts secrets)
  mkdir -p "$comment_dir"
  rm -f "$comment_dir"/plan-*.md
  {
    echo "### Reconciler plan failed"
    echo
    echo "\`reconciler plan\` exited with $code; nothing was planned. Fix the problems below and push again."
    echo
    echo '```'
    head -c 60000 "$errors"
    echo '```'
  } > "$comment_dir/plan-1.md"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -d "$comment_dir" ] && [ "$command" = plan ]; then
  # image links wait for publish.sh; the summary keeps the text drawings only
  cat "$comment_dir"/plan-*.md 2>/dev/null | grep -v 'https://reconciler-pictures.invalid/' >> "$GITHUB_STEP_SUMMARY" || true
fi

{
  echo "exitcode=$code"
  echo "has-changes=$has_changes"
  echo "failed=$failed"
} >> "$output"
echo "reconciler $command exited with $code (has-changes=$has_changes, failed=$failed)"
rm -f "$errors"
exit 0
