#!/usr/bin/env bash
# The demo: version the bundled fixtures/ in a temp copy with the real CLI.
# init, commit, change examples, status, commit, log, diff, quality, export, tag, checkout (byte-exact), fsck.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dsv() { echo "\$ dsv $*"; node "$here/bin/run.js" "$@"; echo; }
work="$(mktemp -d "${TMPDIR:-/tmp}/dsv-demo-XXXXXX")"
trap 'rm -rf "$work" "$work.out"' EXIT
cp -R "$here/fixtures/." "$work/"
cd "$work"
export DSV_AUTHOR_NAME="${DSV_AUTHOR_NAME:-Demo User}" DSV_AUTHOR_EMAIL="${DSV_AUTHOR_EMAIL:-demo@example.com}"

dsv init
dsv commit -m "Import golden examples, Common Voice clips and tables"
dsv tag v1 -m "first reviewed release"

echo "# relabel two golden examples, drop one, add one; edit a Common Voice row; delete a clip"
node -e '
const fs = require("fs");
const p = "golden/golden_examples.jsonl";
const rows = fs.readFileSync(p, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
rows[0].expected_output.tier = "B";
rows[1].labels.edge_case = true;
rows.splice(2, 1);
rows.push({...rows[3], id: "ex-9001", validation_status: "pending", validated_by: null});
fs.writeFileSync(p, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
const t = "common_voice/validated.tsv";
const lines = fs.readFileSync(t, "utf8").split("\n");
const cells = lines[1].split("\t"); cells[5] = String(Number(cells[5]) + 1); lines[1] = cells.join("\t");
fs.writeFileSync(t, lines.join("\n"));
'
rm common_voice/clips/"$(ls common_voice/clips | head -1)"
echo
dsv status
dsv commit -m "Relabel ex-0001, flag ex-0002 as edge case, drop ex-0003, add ex-9001"
dsv log --oneline
dsv config "labels.golden/*.jsonl" expected_output.tier,validation_status
dsv diff v1 HEAD --limit 5
echo "# quality: fixtures/dsv.yaml (one ready profile per table); then compare the two versions"
dsv quality check --limit 3 || true
dsv quality compare v1 HEAD
echo "# export v1 for training: a Hugging Face folder with deterministic splits, and the Common Voice corpus layout"
dsv export v1 --format hf --output "$work.out/hf" --files golden/golden_examples.jsonl --split train=0.8,val=0.1,test=0.1 --seed 7
dsv export v1 --profile cv22 --output "$work.out/cv" --files "common_voice/*.tsv"
before=$(sha256sum golden/golden_examples.jsonl | cut -c1-16)
dsv checkout v1
echo "golden_examples.jsonl: $before (v2) -> $(sha256sum golden/golden_examples.jsonl | cut -c1-16) (v1)"
echo "byte-exact restore of every fixture file:"
diff -r --exclude=.dsv "$here/fixtures" . && echo "  identical to fixtures/"
echo
dsv checkout main
dsv fsck
echo "# share it: push to a remote (a directory here; gs://bucket/prefix works the same), clone it elsewhere"
dsv remote add origin "$work.out/remote"
dsv push origin main --tags
(cd "$work.out" && dsv clone "$work.out/remote" copy)
diff -r --exclude=.dsv . "$work.out/copy" && echo "  the clone is identical"
(cd "$work.out/copy" && dsv log --oneline && dsv status)
