#!/usr/bin/env bash
# The main job end to end with a throwaway age key: no account, no network.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TSOPS="node $ROOT/bin/tsops.cjs"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK" XDG_CONFIG_HOME="$WORK/.config"
# Nothing of the real user's sops set-up (keys, config, decryption order) leaks in.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^SOPS_' || true)
cd "$WORK"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "tsops keygen"
RECIPIENT="$($TSOPS keygen)"
echo "$RECIPIENT"

cat > secrets.yaml <<'YAML'
# Database credentials for the app
database:
  host: db.internal      # not secret, but encrypted by default
  password: hunter2
  port: 5432
api_token: tok-1234567890
public_unencrypted: this value stays readable
YAML
step "cat secrets.yaml"; cat secrets.yaml

step "tsops encrypt --age $RECIPIENT secrets.yaml > secrets.enc.yaml"
$TSOPS encrypt --age "$RECIPIENT" secrets.yaml > secrets.enc.yaml
cat secrets.enc.yaml

step "tsops decrypt secrets.enc.yaml"
$TSOPS decrypt secrets.enc.yaml

step "tsops decrypt --extract '[\"database\"][\"password\"]' secrets.enc.yaml"
$TSOPS decrypt --extract '["database"]["password"]' secrets.enc.yaml; echo

step "tsops decrypt --output-type json secrets.enc.yaml"
$TSOPS decrypt --output-type json secrets.enc.yaml

step "tsops set secrets.enc.yaml '[\"database\"][\"password\"]' '\"swordfish\"'  (only that line changes)"
cp secrets.enc.yaml before.enc.yaml
$TSOPS set secrets.enc.yaml '["database"]["password"]' '"swordfish"'
diff before.enc.yaml secrets.enc.yaml || true

step "tsops filestatus secrets.enc.yaml secrets.yaml --json"
$TSOPS filestatus --json secrets.enc.yaml secrets.yaml

step "a tampered value is refused"
sed 's/port: ENC\[AES256_GCM,data:./port: ENC[AES256_GCM,data:A/' secrets.enc.yaml > tampered.enc.yaml
$TSOPS decrypt tampered.enc.yaml || echo "(exit code $?)"

printf '\ndemo finished; the throwaway key and files are removed\n'
