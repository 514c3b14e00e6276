#!/usr/bin/env bash
# Issue 15 item 6, on a real PostgreSQL: stop the database for 20 s while a
# township station keeps registering growers, start it again, and count.
#
#   bash scripts/outage.sh            # uses target/release/guobao (built if missing)
#   BIN=target/debug/guobao bash scripts/outage.sh   # any other build
#
# It STOPS the machine's PostgreSQL cluster (pg_ctlcluster) for OUTAGE_SECS:
# run it on a machine of your own, never beside other tests. Needs curl, jq, psql.
# Prints: writes answered 201 / 503 / other, the slowest answer during the
# outage, seconds from the restart to the first 201, and whether every
# acknowledged grower is in the database.
set -euo pipefail

OUTAGE_SECS=${OUTAGE_SECS:-20}
BEFORE_SECS=${BEFORE_SECS:-5}
AFTER_SECS=${AFTER_SECS:-15}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18099}
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/guobao}
[ -x "$BIN" ] || cargo build --release
CLUSTER=$(ls /etc/postgresql)
DB=guobao_outage_$$
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start 2>/dev/null || true; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

echo "载入演示县到 $DB ……"
GUOBAO_PHOTO_STORE=$WORK/photos "$BIN" --database-url "$PG/$DB" serve --demo --bind 127.0.0.1:$PORT \
  > "$WORK/server.out" 2> "$WORK/server.log" &
SERVER=$!
until grep -q "果保已启动" "$WORK/server.out" 2>/dev/null; do sleep 1; done
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -s "$BASE/api/v1/session" -H 'Content-Type: application/json' \
  -d '{"username":"station01","password":"guobao-demo"}' | jq -r .token)
VILLAGE=$(psql "$PG/$DB" -Atc "SELECT a.code FROM areas a JOIN users u ON a.parent_id = u.township_id WHERE u.username = 'station01' AND a.level = 'village' ORDER BY a.code LIMIT 1")

# A valid 18-digit ID number for sequence n (GB 11643 check digit).
id_number() {
  local n=$1 first17
  first17=$(printf '5329991970%02d%02d%03d' $(( 1 + n / 28000 % 12 )) $(( 1 + n / 1000 % 28 )) $(( n % 1000 )))
  local w=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) c=(1 0 X 9 8 7 6 5 4 3 2) s=0 i
  for i in $(seq 0 16); do s=$(( s + ${first17:$i:1} * ${w[$i]} )); done
  echo "$first17${c[$(( s % 11 ))]}"
}

LOG=$WORK/writes.tsv   # phase  status  seconds  id  error code
write() {
  local n=$1 phase=$2 out
  out=$(curl -s -m 60 -o "$WORK/body" -w '%{http_code} %{time_total}' "$BASE/api/v1/growers" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"停库测试$n\",\"id_number\":\"$(id_number "$n")\",\"phone\":\"13800000000\",\"bank_name\":\"信用社\",\"bank_account\":\"6228480000000000001\",\"village_code\":\"$VILLAGE\"}" || echo "000 0")
  local id code
  id=$(jq -r '.id // empty' "$WORK/body" 2>/dev/null || true)
  code=$(jq -r '.error // empty' "$WORK/body" 2>/dev/null || true)
  echo -e "$phase\t${out% *}\t${out#* }\t$id\t$code" >> "$LOG"
  if [ "${out% *}" = 422 ] && [ ! -e "$WORK/first422" ]; then cp "$WORK/body" "$WORK/first422"; echo "422：$(cat "$WORK/body")" >&2; fi
}

n=0
end=$(( $(date +%s) + BEFORE_SECS ))
while [ "$(date +%s)" -lt "$end" ]; do n=$((n+1)); write $n before; done
echo "停止 PostgreSQL ${OUTAGE_SECS} 秒 ……"
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main stop -m fast
end=$(( $(date +%s) + OUTAGE_SECS ))
while [ "$(date +%s)" -lt "$end" ]; do n=$((n+1)); write $n outage; sleep 0.2; done
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start
restarted=$(date +%s.%N)
first_ok=""
end=$(( $(date +%s) + AFTER_SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
  n=$((n+1)); write $n after
  if [ -z "$first_ok" ] && [ "$(tail -1 "$LOG" | cut -f2)" = 201 ]; then first_ok=$(date +%s.%N); fi
done

acked=$(awk -F'\t' '$2==201 && $4!="" {print $4}' "$LOG" | sort -n)
stored=$(psql "$PG/$DB" -Atc "SELECT id FROM growers WHERE name LIKE '停库测试%' ORDER BY id")
echo
echo "写入请求（阶段 / 状态 / 次数）："
awk -F'\t' '{c[$1" "$2]++} END {for (k in c) print "  " k, c[k]}' "$LOG" | sort
echo "停库期间最慢的应答：$(awk -F'\t' '$1=="outage" {if ($3>m) m=$3} END {printf "%.3f 秒", m}' "$LOG")"
echo "停库期间的错误码：$(awk -F'\t' '$1=="outage" && $5!="" {c[$5]++} END {for (k in c) printf "%s×%d ", k, c[k]}' "$LOG")"
if [ -n "$first_ok" ]; then
  echo "重启后首次写入成功用时：$(echo "$first_ok - $restarted" | bc) 秒（服务未重启）"
else
  echo "重启后 ${AFTER_SECS} 秒内没有写入成功"; exit 1
fi
if [ "$acked" = "$stored" ]; then
  echo "确认（201）的写入 $(echo "$acked" | grep -c .) 条，数据库中全部存在，且没有多出的记录"
else
  echo "不一致：确认 $(echo "$acked" | grep -c .) 条，数据库 $(echo "$stored" | grep -c .) 条"; exit 1
fi
