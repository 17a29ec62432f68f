#!/usr/bin/env bash
# The pull-request preview, as .github/workflows/preview.yml runs it, and as anyone can run it
# locally against their own backend and cluster (test/lifecycle/cli.test.ts runs it against the
# local control plane).
#
#   scripts/pr-preview.sh pulumi-preview STACK OUT.md
#       In the project directory (the current one): `pulumi preview --diff` of STACK with the
#       policy pack, written as the pull-request comment OUT.md (a list of the resources that
#       change, then the full diff). Exits with the preview's status: a policy violation or a
#       program error fails the job after the comment is written.
#   scripts/pr-preview.sh render-diff BASE_DIR HEAD_DIR OUT_DIR [STACK...]
#       Renders each STACK (default: dev prod) offline in two checkouts and writes the diff as
#       OUT_DIR/comment.md plus OUT_DIR/diff-STACK.txt. No credentials, no cluster: safe for
#       pull requests from forks. BASE_DIR and HEAD_DIR need their npm dependencies installed
#       (run `npm ci` in each, as the workflow does).
#
# Secret values never appear: the preview prints them as [secret] and the render redacts them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MAX_DIFF_BYTES=30000

die() { echo "pr-preview.sh: $*" >&2; exit 2; }

# The lines of a `pulumi preview --diff` that name a resource step: "<op> <type>: (<step>)"
# followed by its [urn=...]; printed as "| op | type | name |" rows.
changed_resources() {
  awk '
    match($0, /^ *(\+-|-\+|\+\+|--|~|\+|-) [A-Za-z0-9:\/._-]+: \([a-z-]+\)/) {
      line = substr($0, RSTART, RLENGTH); sub(/^ */, "", line)
      split(line, parts, " "); op = parts[1]; type = parts[2]; sub(/:$/, "", type)
      step = line; sub(/^.*\(/, "", step); sub(/\)$/, "", step)
      pending = 1; next
    }
    pending && /\[urn=/ {
      urn = $0; sub(/^.*\[urn=/, "", urn); sub(/\].*$/, "", urn)
      n = split(urn, u, "::"); name = u[n]
      if (type != "pulumi:pulumi:Stack") printf("| `%s` %s | `%s` | `%s` |\n", op, step, type, name)
      pending = 0
    }
  '
}

# "passed" when the preview succeeded and lists the pack as run ("Policies: ✅ NAME@vX" or, with
# --diff, a "Policy Packs run:" table); else the mandatory policies that were violated.
policy_verdict() {
  local status="$1" log="$2" violated
  violated="$(grep -oE '\[mandatory\] \[severity: [a-z]+\] +[a-z0-9-]+' "$log" | awk '{print $NF}' | sort -u | paste -sd, - | sed 's/,/, /g')"
  if [ -n "$violated" ]; then
    echo "violated ($violated)"
  elif [ "$status" -eq 0 ] && grep -qE '✅ observability-policies@|^ +observability-policies\|local\|' "$log"; then
    echo "passed"
  else
    echo "did not run"
  fi
}

cmd_pulumi_preview() {
  [ $# -eq 2 ] || die "usage: pulumi-preview STACK OUT.md"
  local stack="$1" out="$2" log status summary rows
  log="$(mktemp)"
  set +e
  pulumi preview --stack "$stack" --diff --policy-pack "$ROOT/policy" \
    --non-interactive --color never --suppress-progress >"$log" 2>&1
  status=$?
  set -e
  # "Resources:" block: "    ~ 3 to update" / "    89 unchanged".
  summary="$(awk '/^Resources:/ {on=1; next} on && NF==0 {exit} on {sub(/^ +/, ""); printf("%s%s", sep, $0); sep=", "}' "$log")"
  rows="$(changed_resources <"$log")"
  {
    echo "<!-- observability-pulumi-preview:$stack -->"
    if [ "$status" -eq 0 ]; then
      echo "### \`pulumi preview\` of \`$stack\`: ${summary:-no resource changes}"
    else
      echo "### \`pulumi preview\` of \`$stack\` failed (exit $status)"
      echo
      echo "A policy violation or a program error: each violation, then the errors."
      echo
      echo '```'
      # "<pack>@vX [mandatory] [severity: S]  <policy>  (<type>: <name>)<description>" + message line
      awk '/\[(mandatory|advisory)\] \[severity: [a-z]+\]/ {
             if (match($0, /\] +[a-z0-9-]+ +\([^)]*\)/)) {
               hdr = substr($0, RSTART + 1, RLENGTH - 1); gsub(/^ +| +$/, "", hdr); gsub(/  +/, " ", hdr)
               msg = ""; if ((getline msg) > 0) gsub(/^ +/, "", msg)
               print hdr ": " msg
             }
           }' "$log" | sort -u | head -60
      grep -E '^ *error: ' "$log" | sed 's/^ *//' | sort -u | head -20 || true
      echo '```'
    fi
    echo
    echo "Policy pack \`policy/\`: $(policy_verdict "$status" "$log")."
    if [ -n "$rows" ]; then
      echo
      echo "| step | type | name |"
      echo "|---|---|---|"
      echo "$rows"
    fi
    echo
    echo "<details><summary>full diff</summary>"
    echo
    echo '```diff'
    head -c "$MAX_DIFF_BYTES" "$log"
    [ "$(wc -c <"$log")" -gt "$MAX_DIFF_BYTES" ] && printf '\n... (truncated)'
    echo
    echo '```'
    echo "</details>"
  } >"$out"
  rm -f "$log"
  return "$status"
}

cmd_render_diff() {
  [ $# -ge 3 ] || die "usage: render-diff BASE_DIR HEAD_DIR OUT_DIR [STACK...]"
  local base head out side stack dir lines render
  base="$(cd "$1" && pwd)"; head="$(cd "$2" && pwd)"; out="$3"; shift 3
  local stacks=("$@"); [ ${#stacks[@]} -gt 0 ] || stacks=(dev prod)
  mkdir -p "$out"
  render="$(mktemp -d)"
  for side in base head; do
    if [ "$side" = base ]; then dir="$base"; else dir="$head"; fi
    for stack in "${stacks[@]}"; do
      if ! (cd "$dir" && npm run --silent render -- --stack "$stack" --out "$render/$side/$stack") >"$render/render-$side-$stack.log" 2>&1; then
        echo "::warning::the $side of this pull request does not render stack $stack"
        mkdir -p "$render/$side/$stack" && cp "$render/render-$side-$stack.log" "$render/$side/$stack/RENDER-FAILED.txt"
      fi
    done
  done
  {
    echo "<!-- observability-render-diff -->"
    echo "### Rendered manifests: base → head"
    echo
    echo "\`npm run render -- --stack <stack>\` on both sides; Secret values are redacted by the render."
    for stack in "${stacks[@]}"; do
      (cd "$render" && diff -ruN "base/$stack" "head/$stack") >"$out/diff-$stack.txt" || true
      lines=$(grep -c '^[-+][^-+]' "$out/diff-$stack.txt" || true)
      echo
      if [ ! -s "$out/diff-$stack.txt" ]; then
        echo "**$stack**: no change"
      else
        echo "<details><summary><b>$stack</b>: $lines changed lines</summary>"
        echo
        echo '```diff'
        head -c "$MAX_DIFF_BYTES" "$out/diff-$stack.txt"
        [ "$(wc -c <"$out/diff-$stack.txt")" -gt "$MAX_DIFF_BYTES" ] && printf '\n... (truncated; the full diff is in the render-diff artifact)'
        echo
        echo '```'
        echo "</details>"
      fi
    done
  } >"$out/comment.md"
  rm -rf "$render"
}

case "${1:-}" in
  pulumi-preview) shift; cmd_pulumi_preview "$@" ;;
  render-diff) shift; cmd_render_diff "$@" ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
