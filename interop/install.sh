#!/usr/bin/env bash
# Installs the interop peers on loopback-only Debian machines, idempotently:
#   - Python websockets (10.4) from Debian's python3-websockets, for /usr/bin/python3
#     (not a pyenv or venv python: Debian's package lives in /usr/lib/python3/dist-packages);
#   - Node ws@8 from npm into interop/node/node_modules (pinned by package.json and
#     package-lock.json);
#   - tinyproxy and dante-server (danted) from Debian, for the proxy tests;
#   - nginx and openssl from Debian, for the TLS tests.
# Each step is skipped when its peer is already importable. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${INTEROP_PYTHON:-/usr/bin/python3}"

have_python_websockets() {
	"$PYTHON" -c 'import websockets' >/dev/null 2>&1
}

# apt_install PKG...: installs Debian packages as root, refreshing the package lists only when
# they hold no candidate, with a temporary policy-rc.d (exit 101) so that no service starts.
apt_install() {
	echo "interop: installing $* (Debian)"
	if [ "$(id -u)" -ne 0 ]; then
		echo "interop: $* missing and installing needs root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	local apt_opts=(-o DPkg::Lock::Timeout=300 -q)
	if ! apt-cache policy "$@" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		apt-get "${apt_opts[@]}" update
	fi
	local policy=/usr/sbin/policy-rc.d made_policy=0 status=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	apt-get "${apt_opts[@]}" install -y --no-install-recommends "$@" || status=$?
	if [ "$made_policy" -eq 1 ]; then
		rm -f "$policy"
	fi
	if [ "$status" -ne 0 ]; then
		echo "interop: apt-get install $* failed ($status)" >&2
		exit "$status"
	fi
}

# have PROG: the program is on PATH or in /usr/sbin or /usr/bin.
have() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

if ! have_python_websockets; then
	apt_install python3-websockets
	if ! have_python_websockets; then
		echo "interop: $PYTHON still cannot import websockets" >&2
		exit 1
	fi
fi

# The proxies of the proxy tests (proxy_test.go): tinyproxy (HTTP CONNECT with Basic
# authentication) and dante-server (danted, SOCKS5); the TLS server of the TLS tests
# (tls_test.go): nginx, with openssl to make certificates at test time. The tests start their own
# instances with configurations in temporary folders; the installer must not start services.
need=()
have tinyproxy || need+=(tinyproxy)
have danted || need+=(dante-server)
have nginx || need+=(nginx)
have openssl || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
	apt_install "${need[@]}"
fi
for prog in tinyproxy danted nginx openssl; do
	if ! have "$prog"; then
		echo "interop: $prog is still missing" >&2
		exit 1
	fi
done

if [ ! -f node/node_modules/ws/package.json ]; then
	echo "interop: installing ws@8 (npm) into interop/node"
	if ! command -v npm >/dev/null 2>&1; then
		echo "interop: npm is missing" >&2
		exit 1
	fi
	if [ -f node/package-lock.json ]; then
		npm ci --prefix node --no-audit --no-fund
	else
		npm install --prefix node --no-audit --no-fund
	fi
fi

ws_version=$(node -p 'require("./node/node_modules/ws/package.json").version')
case "$ws_version" in
8.*) ;;
*)
	echo "interop: interop/node has ws $ws_version, want 8.x" >&2
	exit 1
	;;
esac
py_version=$("$PYTHON" -c 'import websockets; print(websockets.__version__)')
echo "interop: peers ready: node ws $ws_version, python websockets $py_version"
