#!/bin/sh
# Builds Loft and runs it on its embedded demo configuration, in the foreground.
set -eu
cd "$(dirname "$0")/.."
sh contrib/install-deps.sh build
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" -s
exec ./loftd -F --demo "$@"
