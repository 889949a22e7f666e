#!/usr/bin/env bash
# Installs the interop peers on loopback-only Debian machines, idempotently:
#   - Python websockets (10.4) from Debian's python3-websockets, for /usr/bin/python3
#     (not a pyenv or venv python: Debian's package lives in /usr/lib/python3/dist-packages);
#   - Node ws@8 from npm into interop/node/node_modules (pinned by package.json and
#     package-lock.json).
# Each step is skipped when its peer is already importable. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${INTEROP_PYTHON:-/usr/bin/python3}"

have_python_websockets() {
	"$PYTHON" -c 'import websockets' >/dev/null 2>&1
}

if ! have_python_websockets; then
	echo "interop: installing python3-websockets (Debian)"
	if [ "$(id -u)" -ne 0 ]; then
		echo "interop: python3-websockets is missing and installing it needs root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt_opts=(-o DPkg::Lock::Timeout=300 -q)
	# Refresh the package lists only when they hold no candidate for the package.
	if ! apt-cache policy python3-websockets 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		apt-get "${apt_opts[@]}" update
	fi
	# Keep the installer from starting services (harmless for this package).
	policy=/usr/sbin/policy-rc.d
	made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	status=0
	apt-get "${apt_opts[@]}" install -y --no-install-recommends python3-websockets || status=$?
	if [ "$made_policy" -eq 1 ]; then
		rm -f "$policy"
	fi
	if [ "$status" -ne 0 ]; then
		echo "interop: apt-get install python3-websockets failed ($status)" >&2
		exit "$status"
	fi
	if ! have_python_websockets; then
		echo "interop: $PYTHON still cannot import websockets" >&2
		exit 1
	fi
fi

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
