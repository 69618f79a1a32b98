#!/usr/bin/env bash
# bench/run.sh: apigo's proxy benchmark.
#
# Drives, with wrk, on loopback only and in alternating rounds:
#   direct    the backend itself (bench/backend), the ceiling
#   bare      a bare httputil.ReverseProxy (bench/bareproxy)
#   barepool  the same with a ReverseProxy.BufferPool (bareproxy -buffer-pool)
#   apigo     `apigo serve` with the passthrough bundle (bench/passthrough)
#   nginx     nginx as a plain reverse proxy (keepalive upstream)
#   caddy     Caddy as a plain reverse proxy (skipped when not in the archive)
# and prints median requests/s and latency percentiles per target and the
# ratios apigo/bare, apigo/barepool, apigo/caddy, apigo/nginx, apigo/direct. The same table
# goes to bench/results/latest.txt (git-ignored).
#
# Settings (environment):
#   ROUNDS=3 DURATION=10s CONNS=64 THREADS=2   wrk settings, per target and round
#   WARMUP=2s                                  one unrecorded wrk run per target first
#   PORT_BASE=18080                            backend, bare, apigo, nginx, caddy, barepool
#                                              use PORT_BASE .. PORT_BASE+5
#   TARGETS="direct bare barepool apigo nginx caddy"  which targets to drive
#   NO_INSTALL=1                               never call apt-get
#   PROFILE=1                                  after the rounds, one more unrecorded run of
#                                              apigo and of bare under `perf record`; the top
#                                              functions go to bench/results/perf-<target>.txt
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
PORT_BASE=${PORT_BASE:-18080}
TARGETS=${TARGETS:-direct bare barepool apigo nginx caddy}
REQ_PATH=/bench/ping

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/apigo-bench.XXXXXX")
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
PIDS=()
declare -A PID_OF

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

port_of() {
	case $1 in
	direct) echo $((PORT_BASE)) ;;
	bare) echo $((PORT_BASE + 1)) ;;
	apigo) echo $((PORT_BASE + 2)) ;;
	nginx) echo $((PORT_BASE + 3)) ;;
	caddy) echo $((PORT_BASE + 4)) ;;
	barepool) echo $((PORT_BASE + 5)) ;;
	*) die "unknown target $1" ;;
	esac
}

has_target() { [[ " $TARGETS " == *" $1 "* ]]; }
drop_target() { TARGETS=$(printf '%s\n' $TARGETS | grep -vx "$1" | tr '\n' ' '); }

# seconds converts a wrk duration (10s, 2m, 1h, 30) to seconds.
seconds() {
	local d=$1
	case $d in
	*h) echo $((${d%h} * 3600)) ;;
	*m) echo $((${d%m} * 60)) ;;
	*s) echo "${d%s}" ;;
	*) echo "$d" ;;
	esac
}

# install_tools installs wrk, nginx and caddy from Debian when missing.
install_tools() {
	local want=() sudo=""
	command -v wrk >/dev/null || want+=(wrk)
	if has_target nginx && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
		want+=(nginx)
	fi
	if has_target caddy && ! command -v caddy >/dev/null; then
		if [[ -n ${NO_INSTALL:-} ]]; then
			CADDY_SKIPPED="not installed and NO_INSTALL is set"
			log "bench: caddy: skipped ($CADDY_SKIPPED)"
			drop_target caddy
		else
			want+=(caddy)
		fi
	fi
	[[ ${#want[@]} -eq 0 ]] && return 0
	[[ -n ${NO_INSTALL:-} ]] && die "missing ${want[*]} and NO_INSTALL is set"
	[[ $(id -u) -ne 0 ]] && sudo=sudo
	$sudo apt-get update -qq
	if [[ " ${want[*]} " == *" caddy "* ]]; then
		local cand
		cand=$(apt-cache policy caddy 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [[ -z $cand || $cand == "(none)" ]]; then
			CADDY_SKIPPED="not in this machine's Debian archive: apt-cache policy caddy has no candidate"
			log "bench: caddy: skipped ($CADDY_SKIPPED)"
			mapfile -t want < <(printf '%s\n' "${want[@]}" | grep -vx caddy)
			drop_target caddy
		fi
	fi
	[[ ${#want[@]} -eq 0 ]] && return 0
	log "bench: installing ${want[*]}"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${want[@]}" >/dev/null
}

# wait_port waits until something accepts on 127.0.0.1:$1.
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "nothing listens on 127.0.0.1:$1 after 10s ($2); see $WORK/$2.log"
}

build() {
	log "bench: building apigo, backend and bareproxy"
	if has_target apigo; then
		go build -o "$WORK/apigo" ./cmd/apigo || die "./cmd/apigo does not build"
	fi
	go build -o "$WORK/backend" ./bench/backend
	go build -o "$WORK/bareproxy" ./bench/bareproxy
}

start_backend() {
	"$WORK/backend" -addr "127.0.0.1:$(port_of direct)" >"$WORK/direct.log" 2>&1 &
	PIDS+=($!)
	wait_port "$(port_of direct)" direct
}

start_bare() {
	"$WORK/bareproxy" -addr "127.0.0.1:$(port_of bare)" -target "http://127.0.0.1:$(port_of direct)" \
		>"$WORK/bare.log" 2>&1 &
	PIDS+=($!)
	PID_OF[bare]=$!
	wait_port "$(port_of bare)" bare
}

start_barepool() {
	"$WORK/bareproxy" -addr "127.0.0.1:$(port_of barepool)" -target "http://127.0.0.1:$(port_of direct)" \
		-buffer-pool >"$WORK/barepool.log" 2>&1 &
	PIDS+=($!)
	PID_OF[barepool]=$!
	wait_port "$(port_of barepool)" barepool
}

start_apigo() {
	"$WORK/apigo" serve --addr "127.0.0.1:$(port_of apigo)" --quiet \
		--map-url "http://backend.bench=http://127.0.0.1:$(port_of direct)" \
		bench/passthrough >"$WORK/apigo.log" 2>&1 &
	PIDS+=($!)
	PID_OF[apigo]=$!
	wait_port "$(port_of apigo)" apigo
}

start_nginx() {
	local dir=$WORK/nginx user=""
	mkdir -p "$dir/tmp"
	# As root nginx would switch its workers to nobody; keep the current user.
	[[ $(id -u) -eq 0 ]] && user="user $(id -un) $(id -gn);"
	cat >"$dir/nginx.conf" <<EOF
$user
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	upstream backend {
		server 127.0.0.1:$(port_of direct);
		keepalive 256;
	}
	server {
		listen 127.0.0.1:$(port_of nginx);
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
	local bin
	bin=$(command -v nginx || echo /usr/sbin/nginx)
	"$bin" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$WORK/nginx.log" 2>&1 &
	PIDS+=($!)
	wait_port "$(port_of nginx)" nginx
}

start_caddy() {
	local dir=$WORK/caddy
	mkdir -p "$dir"
	cat >"$dir/Caddyfile" <<EOF
{
	admin off
	auto_https off
}
http://127.0.0.1:$(port_of caddy) {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$(port_of direct)
}
EOF
	XDG_DATA_HOME=$dir XDG_CONFIG_HOME=$dir HOME=$dir \
		caddy run --config "$dir/Caddyfile" --adapter caddyfile >"$WORK/caddy.log" 2>&1 &
	PIDS+=($!)
	wait_port "$(port_of caddy)" caddy
}

# check fails unless target $1 answers 200 with the backend's body.
check() {
	local got want
	want=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$(port_of direct)$REQ_PATH")
	got=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$(port_of "$1")$REQ_PATH") || true
	[[ $want == *" 200" && $got == "$want" ]] || die "$1 answers '$got', want the backend's body and 200; see $WORK/$1.log"
}

# drive runs wrk against target $1 for $2 and writes its output to $3.
drive() {
	local secs
	secs=$(seconds "$2")
	timeout $((secs + 30)) wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency \
		"http://127.0.0.1:$(port_of "$1")$REQ_PATH" >"$3" 2>&1 || die "wrk failed on $1: $(cat "$3")"
}

# parse prints "rps p50 p90 p99 errors" (latencies in ms) from wrk output.
parse() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	/Requests\/sec:/ { rps = $2 }
	$1 == "50%" { p50 = ms($2) }
	$1 == "90%" { p90 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { errs += $NF }
	/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
	END { printf "%s %.3f %.3f %.3f %d\n", rps, p50, p90, p99, errs }
	' "$1"
}

# profile drives target $1 once more with perf recording its process and
# writes the hottest functions to $RESULTS/perf-$1.txt.
profile() {
	local data=$WORK/perf-$1.data secs perf_pid
	secs=$(seconds "$DURATION")
	log "bench: profiling $1 with perf ($DURATION, not counted)"
	perf record -q -F 999 -p "${PID_OF[$1]}" -o "$data" -- sleep "$secs" >"$WORK/perf-$1.log" 2>&1 &
	perf_pid=$!
	PIDS+=("$perf_pid")
	drive "$1" "$DURATION" "$WORK/$1.perf.out"
	wait "$perf_pid" || die "perf record failed on $1: $(cat "$WORK/perf-$1.log")"
	{
		printf 'perf profile of %s under wrk -t%s -c%s -d%s (%s req/s during the profile)\n' \
			"$1" "$THREADS" "$CONNS" "$DURATION" "$(parse "$WORK/$1.perf.out" | cut -d' ' -f1)"
		perf report -i "$data" --stdio --no-children --sort symbol --percent-limit 0.7 2>/dev/null |
			grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' | head -50
	} >"$RESULTS/perf-$1.txt"
	log "bench: wrote $RESULTS/perf-$1.txt"
}

# rotate prints the targets starting at index $1, so each round begins
# with a different target and none always runs first or last.
rotate() {
	local -a t=($TARGETS)
	local n=${#t[@]} i
	for ((i = 0; i < n; i++)); do
		printf '%s ' "${t[$(((i + $1) % n))]}"
	done
}

# median of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

report() {
	local raw=$1 t
	printf 'apigo proxy benchmark  %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'machine: %s CPUs, %s; %s; load average at start: %s\n' "$(nproc)" "$(uname -sr)" "$(go env GOVERSION)" "$LOAD_START"
	printf 'wrk -t%s -c%s -d%s --latency, %s rounds, targets alternate each round; loopback; GET %s\n\n' \
		"$THREADS" "$CONNS" "$DURATION" "$ROUNDS" "$REQ_PATH"
	printf 'per round:\n%-7s %-8s %12s %9s %9s %9s %7s\n' round target req/s p50ms p90ms p99ms errors
	awk '{ printf "%-7s %-8s %12.0f %9.3f %9.3f %9.3f %7d\n", $1, $2, $3, $4, $5, $6, $7 }' "$raw"
	printf '\nmedian over rounds (req/s range: slowest..fastest round):\n%-8s %12s %15s %9s %9s %9s %7s\n' \
		target req/s range p50ms p90ms p99ms errors
	for t in $TARGETS; do
		printf '%-8s %12.0f %15s %9.3f %9.3f %9.3f %7d\n' "$t" \
			"$(awk -v t="$t" '$2 == t { print $3 }' "$raw" | median)" \
			"$(awk -v t="$t" '$2 == t { print $3 }' "$raw" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f..%.0f", lo, hi }')" \
			"$(awk -v t="$t" '$2 == t { print $4 }' "$raw" | median)" \
			"$(awk -v t="$t" '$2 == t { print $5 }' "$raw" | median)" \
			"$(awk -v t="$t" '$2 == t { print $6 }' "$raw" | median)" \
			"$(awk -v t="$t" '$2 == t { s += $7 } END { print s + 0 }' "$raw")"
	done
	[[ -z ${CADDY_SKIPPED:-} ]] || printf 'caddy: skipped (%s)\n' "$CADDY_SKIPPED"
	has_target apigo || return 0
	printf '\nratios (median req/s: >1 means apigo is faster; median p99: <1 means apigo is faster):\n'
	local a_rps a_p99 o_rps o_p99
	a_rps=$(awk '$2 == "apigo" { print $3 }' "$raw" | median)
	a_p99=$(awk '$2 == "apigo" { print $6 }' "$raw" | median)
	for t in bare barepool caddy nginx direct; do
		has_target "$t" || continue
		o_rps=$(awk -v t="$t" '$2 == t { print $3 }' "$raw" | median)
		o_p99=$(awk -v t="$t" '$2 == t { print $6 }' "$raw" | median)
		awk -v t="$t" -v ar="$a_rps" -v ap="$a_p99" -v or="$o_rps" -v op="$o_p99" 'BEGIN {
			printf "apigo/%-8s req/s %6.2f   p99 %6.2f\n", t, (or > 0 ? ar / or : 0), (op > 0 ? ap / op : 0)
		}'
	done
}

# check_settings rejects settings wrk or the loops would misread.
check_settings() {
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS=$ROUNDS: want a positive number"
	[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "CONNS=$CONNS: want a positive number"
	[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "THREADS=$THREADS: want a positive number"
	[[ $PORT_BASE =~ ^[1-9][0-9]*$ ]] || die "PORT_BASE=$PORT_BASE: want a port number"
	local d
	for d in "$DURATION" "$WARMUP"; do
		[[ $d =~ ^[1-9][0-9]*[smh]?$ ]] || die "duration $d: want e.g. 10s, 2m"
	done
	local t
	for t in $TARGETS; do
		port_of "$t" >/dev/null
	done
	[[ $THREADS -le $CONNS ]] || die "THREADS=$THREADS exceeds CONNS=$CONNS (wrk needs a connection per thread)"
}

main() {
	check_settings
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	install_tools
	command -v curl >/dev/null || die "curl is needed to check the targets"
	build
	start_backend
	local t r
	for t in $TARGETS; do
		[[ $t == direct ]] || "start_$t"
		check "$t"
	done
	for t in $TARGETS; do
		log "bench: warm-up $t ($WARMUP)"
		drive "$t" "$WARMUP" "$WORK/warmup.out"
	done
	: >"$WORK/raw"
	for ((r = 1; r <= ROUNDS; r++)); do
		for t in $(rotate $((r - 1))); do
			log "bench: round $r/$ROUNDS $t ($DURATION)"
			drive "$t" "$DURATION" "$WORK/$t.$r.out"
			printf '%s %s %s\n' "$r" "$t" "$(parse "$WORK/$t.$r.out")" >>"$WORK/raw"
		done
	done
	report "$WORK/raw" | tee "$RESULTS/latest.txt"
	if [[ -n ${PROFILE:-} ]]; then
		command -v perf >/dev/null || die "PROFILE=1 needs perf (Debian package linux-perf)"
		for t in apigo bare; do
			has_target "$t" && profile "$t"
		done
	fi
	return 0
}

main "$@"
